package org.lguest.devices.console.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The console on a loopback TCP port: one client, both directions, busy for a second, gone when closed. */
@Timeout(30)
class TcpBackEndTest {
    final LinkedBlockingQueue<String> typed = new LinkedBlockingQueue<>();

    static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return s;
    }

    static String read(InputStream in, int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.US_ASCII);
    }

    /** Writes until the client has connected (the accept runs on the back end's thread). */
    static void writeWhenConnected(TcpBackEnd b, Socket s, String text) throws Exception {
        InputStream in = s.getInputStream();
        byte[] want = text.getBytes(StandardCharsets.US_ASCII);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (in.available() == 0) {
            assertTrue(System.nanoTime() < deadline, "nothing arrived");
            b.write(ByteBuffer.wrap(want));
            Thread.sleep(20);
        }
        assertArrayEquals(want, in.readNBytes(want.length));
    }

    @Test
    void theGuestsOutputReachesTheClientAndWhatTheClientTypesReachesTheGuest() throws Exception {
        try (TcpBackEnd b = new TcpBackEnd(0)) {
            b.startInput(bytes -> typed.add(new String(bytes, StandardCharsets.US_ASCII)));
            assertEquals("tcp 127.0.0.1:" + b.port(), b.name());
            try (Socket s = connect(b.port())) {
                writeWhenConnected(b, s, "login: ");
                s.getOutputStream().write("root\n".getBytes(StandardCharsets.US_ASCII));
                StringBuilder got = new StringBuilder();
                while (got.length() < 5) {
                    got.append(typed.poll(10, TimeUnit.SECONDS));
                }
                assertEquals("root\n", got.toString());
            }
        }
    }

    @Test
    void aSecondClientIsToldTheConsoleIsBusy() throws Exception {
        try (TcpBackEnd b = new TcpBackEnd(0)) {
            b.startInput(bytes -> { });
            try (Socket first = connect(b.port())) {
                writeWhenConnected(b, first, "x");
                try (Socket second = connect(b.port())) {
                    assertEquals(new String(TcpBackEnd.BUSY, StandardCharsets.US_ASCII),
                            read(second.getInputStream(), TcpBackEnd.BUSY.length));
                    assertEquals(-1, second.getInputStream().read(), "then closed");
                }
            }
        }
    }

    @Test
    void closingTheBackEndClosesTheClientAndFreesThePortForTheReplacement() throws Exception {
        TcpBackEnd b = new TcpBackEnd(0);
        int port = b.port();
        b.startInput(bytes -> { });
        try (Socket s = connect(port)) {
            writeWhenConnected(b, s, "y");
            b.close();
            assertEquals(-1, s.getInputStream().read(), "the client sees the end");
        }
        try (TcpBackEnd again = new TcpBackEnd(port)) {
            assertEquals(port, again.port(), "the replacement listens on the same port");
        }
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        try (TcpBackEnd b = new TcpBackEnd(0)) {
            IOException e = assertThrows(IOException.class, () -> new TcpBackEnd(b.port()));
            assertTrue(e.getMessage().startsWith("console tcp:" + b.port() + ": cannot listen on 127.0.0.1:"),
                    e.getMessage());
        }
    }
}
