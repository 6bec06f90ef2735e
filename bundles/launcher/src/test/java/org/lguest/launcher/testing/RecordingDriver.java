package org.lguest.launcher.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.device.DeviceRequest;
import org.lguest.lg.abi.DevicePage;

/** A console driver for tests: records output per guest, delivers input on request. */
public final class RecordingDriver implements DeviceDriver {
    public final List<BackEnd> opened = new CopyOnWriteArrayList<>();

    @Override
    public int deviceType() {
        return DevicePage.TYPE_CONSOLE;
    }

    @Override
    public DeviceModel open(DeviceContext context) {
        BackEnd b = new BackEnd(context);
        opened.add(b);
        return b;
    }

    public static final class BackEnd implements DeviceModel {
        public final DeviceContext context;
        public final StringBuffer output = new StringBuffer();
        public volatile boolean closed;

        BackEnd(DeviceContext context) {
            this.context = context;
        }

        @Override
        public void submit(DeviceRequest request) throws IOException {
            int n = 0;
            for (ByteBuffer s : request.readable()) {
                n += s.remaining();
                output.append(StandardCharsets.UTF_8.decode(s));
            }
            request.complete(n);
        }

        /** Typed input goes to the guest's console buffer (key 0) at once; false when the guest has no free buffer for it all. */
        @Override
        public boolean input(byte[] data) {
            ByteBuffer b = ByteBuffer.wrap(data);
            return context.deliver(0, b) >= 0 && !b.hasRemaining();
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
