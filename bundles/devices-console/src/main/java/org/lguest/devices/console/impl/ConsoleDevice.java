package org.lguest.devices.console.impl;

import org.lguest.device.console.ConsoleBackEnd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceRequest;
import org.lguest.lg.abi.LguestDma;

/**
 * The guest-facing console (2.6.23's handle_console_output/_input): what
 * the guest sends to key 0 is written to the back end and its length
 * returned as used_len; input from the back end (or typed in the shell)
 * waits in a queue and is placed into the buffer the guest bound at key 0
 * by {@link DeviceContext#deliver}, 256 bytes at most at a time (the
 * guest's buffer), retried while the guest has no free buffer.
 *
 * <p>Keeps the most recent output in an {@link OutputRing} (the shell's
 * view) and counts bytes both ways. Its saved state is that ring plus the
 * input not yet delivered, so a replacement shows the same transcript and
 * delivers the same keystrokes.
 */
final class ConsoleDevice implements DeviceModel {
    static final int TRANSCRIPT_BYTES = 256 * 1024;
    /** Input waiting for the guest beyond this is dropped (and counted): the guest is not reading. */
    static final int PENDING_INPUT_LIMIT = 64 * 1024;
    private static final long RETRY_MILLIS = 20;

    private final DeviceContext context;
    private final ConsoleBackEnd backEnd;
    private final OutputRing transcript = new OutputRing(TRANSCRIPT_BYTES);
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private int pendingBytes;
    private boolean closed;
    private final Thread pump;

    private long outputs;
    private long bytesOut;
    private long bytesIn;
    private long inputDropped;
    private long writeErrors;

    ConsoleDevice(DeviceContext context, ConsoleBackEnd backEnd) {
        this.context = context;
        this.backEnd = backEnd;
        restore(context.savedState());
        pump = Thread.ofPlatform().daemon().name("lguest-console-input-" + context.guestId()).unstarted(this::pumpInput);
        pump.start();
        backEnd.startInput(this::queueInput);
    }

    @Override
    public String describe() {
        return "console on the " + backEnd.name() + " back end";
    }

    // ---- output ------------------------------------------------------------

    @Override
    public void submit(DeviceRequest request) throws IOException {
        int total = 0;
        synchronized (this) {
            outputs++;
        }
        for (ByteBuffer s : request.readable()) {
            int n = s.remaining();
            transcript.append(s);
            try {
                backEnd.write(s);
            } catch (IOException e) {
                synchronized (this) {
                    writeErrors++;
                }
                throw e;
            }
            total += n;
        }
        synchronized (this) {
            bytesOut += total;
        }
        request.complete(total);
    }

    // ---- input ---------------------------------------------------------------

    /** Queues input for the guest (from the back end's reader, or the shell). */
    void queueInput(byte[] data) {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (pendingBytes + data.length > PENDING_INPUT_LIMIT) {
                inputDropped += data.length;
                return;
            }
            pending.add(data.clone());
            pendingBytes += data.length;
            notifyAll();
        }
    }

    @Override
    public boolean input(byte[] data) {
        queueInput(data);
        return true;
    }

    private void pumpInput() {
        while (true) {
            byte[] chunk;
            synchronized (this) {
                while (pending.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        if (closed) {
                            return;
                        }
                    }
                }
                if (closed) {
                    return;
                }
                chunk = pending.peek();
            }
            ByteBuffer data = ByteBuffer.wrap(chunk);
            int placed = context.deliver(LguestDma.CONSOLE_KEY, data);
            synchronized (this) {
                if (placed > 0) {
                    bytesIn += placed;
                    pendingBytes -= placed;
                    if (data.hasRemaining()) {
                        byte[] rest = new byte[data.remaining()];
                        data.get(rest);
                        pending.poll();
                        pending.addFirst(rest);
                    } else {
                        pending.poll();
                    }
                    continue;
                }
                if (closed) {
                    return;
                }
                try {
                    wait(RETRY_MILLIS); // the guest has no free buffer yet
                } catch (InterruptedException e) {
                    if (closed) {
                        return;
                    }
                }
            }
        }
    }

    // ---- state, metrics, shell --------------------------------------------------

    /** State: u32 transcript length, the transcript, u32 pending length, the pending input. */
    @Override
    public byte[] saveState() {
        backEnd.close(); // no input may arrive after the snapshot
        stopPump();
        byte[] text = transcript.contents();
        synchronized (this) {
            ByteBuffer b = ByteBuffer.allocate(8 + text.length + pendingBytes).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(text.length).put(text).putInt(pendingBytes);
            for (byte[] p : pending) {
                b.put(p);
            }
            return b.array();
        }
    }

    private void restore(byte[] state) {
        if (state == null || state.length < 8) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(state).order(ByteOrder.LITTLE_ENDIAN);
        int textLength = b.getInt();
        if (textLength < 0 || textLength > b.remaining() - 4) {
            return;
        }
        byte[] text = new byte[textLength];
        b.get(text);
        transcript.append(text);
        int pendingLength = b.getInt();
        if (pendingLength > 0 && pendingLength <= b.remaining()) {
            byte[] p = new byte[pendingLength];
            b.get(p);
            pending.add(p);
            pendingBytes = pendingLength;
        }
    }

    @Override
    public Optional<String> transcript() {
        return Optional.of(transcript.text());
    }

    @Override
    public java.util.Set<String> gauges() {
        return java.util.Set.of("console.inputPending");
    }

    @Override
    public synchronized Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("console.outputs", outputs);
        m.put("console.bytesOut", bytesOut);
        m.put("console.bytesIn", bytesIn);
        m.put("console.inputPending", (long) pendingBytes);
        m.put("console.inputDropped", inputDropped);
        m.put("console.writeErrors", writeErrors);
        return m;
    }

    String backEndName() {
        return backEnd.name();
    }

    private void stopPump() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        pump.interrupt();
        try {
            pump.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        backEnd.close();
        stopPump();
    }
}
