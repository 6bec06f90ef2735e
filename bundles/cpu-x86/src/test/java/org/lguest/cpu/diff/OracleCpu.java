package org.lguest.cpu.diff;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The processor that says what each case really does: an {@link Oracle}
 * (the host processor through the native helper, or qemu-system-i386
 * through the oracle kernel) spoken to in the case protocol of
 * README-difftest.md. One oracle runs any number of cases.
 */
final class OracleCpu implements AutoCloseable {

    /** What the helper reports about the host before the first case. */
    record Header(int codeAddress, int dataAddress, int dataSize, int[] selectors, int larCs, int lslCs, int larDs,
                  int lslDs) {
        int userCs() {
            return selectors[1];
        }

        int userDs() {
            return selectors[3];
        }
    }

    private final Oracle oracle;
    private final OutputStream out;
    private final InputStream in;
    private final Header header;
    private final byte[] buf = new byte[256];

    OracleCpu(Oracle oracle, byte[] pattern) throws IOException {
        this.oracle = oracle;
        out = new BufferedOutputStream(oracle.cases(), 1 << 16);
        in = new BufferedInputStream(oracle.outcomes(), 1 << 16);
        writeInt(0x31434644);
        writeInt(pattern.length);
        out.write(pattern);
        out.flush();
        if (readInt() != 0x31524644) {
            throw new IOException(oracle.name() + " answered with a bad header");
        }
        int code = readInt();
        int data = readInt();
        int size = readInt();
        int[] sel = new int[6];
        for (int i = 0; i < 6; i++) {
            sel[i] = readInt();
        }
        header = new Header(code, data, size, sel, readInt(), readInt(), readInt(), readInt());
        if (code != Layout.CODE || data != Layout.DATA || size != Layout.DATA_SIZE) {
            throw new IOException(oracle.name() + ": layout differs from Layout: " + header);
        }
    }

    Oracle oracle() {
        return oracle;
    }

    Header header() {
        return header;
    }

    void send(DiffCase c) throws IOException {
        out.write(c.fpu() ? 3 : 1);
        out.write(c.codeOffset());
        out.write(c.codeOffset() >>> 8);
        out.write(c.code().length);
        out.write(c.code());
        for (int r : c.regs()) {
            writeInt(r);
        }
        writeInt(c.eflags());
        out.write(c.patches().size());
        for (DiffCase.Patch p : c.patches()) {
            out.write(p.offset());
            out.write(p.offset() >>> 8);
            out.write(p.bytes().length);
            out.write(p.bytes());
        }
    }

    void flush() throws IOException {
        out.flush();
    }

    /** Tells the helper there are no more cases. */
    void finish() throws IOException {
        out.write(0);
        out.flush();
        out.close();
    }

    Outcome receive() throws IOException {
        readFully(buf, 0, 20 + 32 + 12 + 2);
        int tag = buf[0] & 0xff;
        if ((tag & 1) == 0) {
            throw new IOException("bad result tag " + tag);
        }
        int trapno = buf[2] & 0xff;
        int err = le(4);
        int cr2 = le(8);
        int eip = le(12);
        int eflags = le(16);
        int[] regs = new int[8];
        for (int i = 0; i < 8; i++) {
            regs[i] = le(20 + 4 * i);
        }
        int[] sel = new int[6];
        for (int i = 0; i < 6; i++) {
            sel[i] = (buf[52 + 2 * i] & 0xff) | (buf[53 + 2 * i] & 0xff) << 8;
        }
        int n = (buf[64] & 0xff) | (buf[65] & 0xff) << 8;
        Map<Integer, Integer> mem = n == 0 ? Map.of() : new HashMap<>();
        for (int i = 0; i < n; i++) {
            readFully(buf, 0, 6);
            mem.put((buf[0] & 0xff) | (buf[1] & 0xff) << 8, le(2));
        }
        byte[] fpu = null;
        if ((tag & 2) != 0) {
            fpu = new byte[108];
            readFully(fpu, 0, 108);
        }
        return new Outcome(trapno, err, cr2, eip, eflags, regs, sel, mem, null, fpu);
    }

    private int le(int o) {
        return (buf[o] & 0xff) | (buf[o + 1] & 0xff) << 8 | (buf[o + 2] & 0xff) << 16 | (buf[o + 3] & 0xff) << 24;
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int k = in.read(b, off, len);
            if (k < 0) {
                throw new EOFException(oracle.name() + " stopped answering: " + oracle.failure());
            }
            off += k;
            len -= k;
        }
    }

    private int readInt() throws IOException {
        readFully(buf, 0, 4);
        return le(0);
    }

    private void writeInt(int v) throws IOException {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    @Override
    public void close() throws IOException {
        oracle.close();
    }
}
