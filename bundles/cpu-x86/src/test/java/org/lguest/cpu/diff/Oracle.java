package org.lguest.cpu.diff;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Where the true outcome of a case comes from: a real or emulated i386 that
 * runs the case protocol (README-difftest.md) with cases going in on
 * {@link #cases()} and outcomes coming out on {@link #outcomes()}. Two
 * exist: the host processor through the native helper, and
 * qemu-system-i386 through the oracle kernel. {@link Oracles} chooses.
 */
interface Oracle extends AutoCloseable {

    /** The two kinds, in the order of preference. */
    enum Kind {
        /** The build machine's processor, running the native helper (src/test/native/helper.c). */
        HOST,
        /** qemu-system-i386 (TCG) running the oracle kernel (src/test/native/oracle/). */
        QEMU
    }

    Kind kind();

    /** What is answering, for reports: "host processor (AMD EPYC 7B13)", "qemu-system-i386 7.2.22". */
    String name();

    OutputStream cases();

    InputStream outcomes();

    /** Why the oracle stopped answering, as far as can be told (exit status, its last words). */
    String failure();

    @Override
    void close() throws IOException;
}
