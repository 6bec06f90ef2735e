package org.lguest.devices.console.impl;

import org.lguest.device.console.ConsoleBackEnd;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The console on this process's standard output and input (the 2.6.23
 * Launcher's stdin/stdout). Input is polled with {@code available()} rather
 * than a blocking read, so that a back end being replaced never leaves a
 * thread stuck in {@code read} that would swallow the next keystrokes.
 */
final class TerminalBackEnd implements ConsoleBackEnd {
    private static final long POLL_MILLIS = 20;

    private final OutputStream out;
    private final InputStream in;
    private volatile boolean closed;
    private Thread reader;

    TerminalBackEnd(OutputStream out, InputStream in) {
        this.out = out;
        this.in = in;
    }

    @Override
    public void write(ByteBuffer data) throws IOException {
        ByteBuffer d = data.duplicate();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        synchronized (out) {
            out.write(bytes);
            out.flush();
        }
    }

    @Override
    public synchronized void startInput(Consumer<byte[]> input) {
        reader = Thread.ofPlatform().daemon().name("lguest-console-stdin").start(() -> {
            byte[] buffer = new byte[1024];
            while (!closed) {
                try {
                    int available = in.available();
                    if (available <= 0) {
                        Thread.sleep(POLL_MILLIS);
                        continue;
                    }
                    int n = in.read(buffer, 0, Math.min(available, buffer.length));
                    if (n < 0) {
                        return;
                    }
                    byte[] chunk = new byte[n];
                    System.arraycopy(buffer, 0, chunk, 0, n);
                    input.accept(chunk);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException e) {
                    return; // stdin closed: no more input
                }
            }
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (reader != null) {
            reader.interrupt();
            try {
                reader.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String name() {
        return "terminal";
    }
}
