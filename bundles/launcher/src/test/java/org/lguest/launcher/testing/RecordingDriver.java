package org.lguest.launcher.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.lguest.device.DeviceBackEnd;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.lg.abi.DevicePage;

/** A console driver for tests: records output per guest, delivers input on request. */
public final class RecordingDriver implements DeviceDriver {
    public final List<BackEnd> opened = new CopyOnWriteArrayList<>();

    @Override
    public int deviceType() {
        return DevicePage.TYPE_CONSOLE;
    }

    @Override
    public DeviceBackEnd open(DeviceContext context) {
        BackEnd b = new BackEnd(context);
        opened.add(b);
        return b;
    }

    public static final class BackEnd implements DeviceBackEnd {
        public final DeviceContext context;
        public final StringBuffer output = new StringBuffer();
        public volatile boolean closed;

        BackEnd(DeviceContext context) {
            this.context = context;
        }

        @Override
        public int output(int key, ByteBuffer[] sections) throws IOException {
            int n = 0;
            for (ByteBuffer s : sections) {
                n += s.remaining();
                output.append(StandardCharsets.UTF_8.decode(s));
            }
            return n;
        }

        /** Typed input goes to the guest's console buffer (key 0), waiting while the guest has none free. */
        @Override
        public boolean input(byte[] data) {
            ByteBuffer b = ByteBuffer.wrap(data);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (b.hasRemaining() && System.nanoTime() < deadline) {
                if (context.deliver(0, b) < 0) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
            }
            return !b.hasRemaining();
        }

        @Override
        public Optional<String> transcript() {
            return Optional.of(output.toString());
        }

        @Override
        public byte[] saveState() {
            return output.toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
