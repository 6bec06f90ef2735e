package org.lguest.web.impl;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Joins what a guest printed before a live view opened (its console's
 * transcript) to what it prints from then on ({@code Guest.watch}), so that
 * the view shows every byte once.
 *
 * <p>The watch is opened first and the transcript read second, so nothing
 * falls between them; but output that came in that short interval can be in
 * both (the Launcher hands a copy to watchers just before the back end
 * records it). The overlap is the longest start of what the watch received
 * before the transcript was read that is also the transcript's end; that much
 * is dropped from the live part.
 */
final class ConsoleStream {
    private ConsoleStream() {
    }

    /** How many bytes at the start of {@code early} the transcript already holds. */
    static int overlap(byte[] transcript, byte[] early) {
        for (int n = Math.min(transcript.length, early.length); n > 0; n--) {
            if (Arrays.equals(transcript, transcript.length - n, transcript.length, early, 0, n)) {
                return n;
            }
        }
        return 0;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
