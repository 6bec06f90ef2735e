package org.lguest.launcher.impl;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.lguest.device.DeviceRequest;
import org.lguest.launcher.impl.serial.Uart16450;
import org.lguest.launcher.impl.virtio.VirtioConsole;

/**
 * A 4.x guest's console: joins the guest's three ways of writing to one
 * Launcher console device (and so to whichever console driver serves it,
 * swappable as any device's):
 *
 * <ul>
 * <li>the serial port ({@link Uart16450}), which is {@code /dev/console}
 * and the kernel's console when the command line says
 * {@code console=ttyS0} (the Launcher's default, see
 * {@code LinuxKernel.commandLine}); input goes there;</li>
 * <li>the virtio console's transmit queue ({@code /dev/hvc1});</li>
 * <li>the virtio console's {@code emerg_wr} field, which Linux's lguest
 * boot code writes one character at a time as the early console hvc0,
 * until the virtio driver binds. When the serial port is the console the
 * kernel prints every line through both from the same moment (both
 * register in console_init and replay the log), so the early writer's
 * copy is dropped; otherwise it is shown, a line at a
 * time.</li>
 * </ul>
 *
 * Everything here runs on the guest's thread.
 */
final class LinuxConsole {
    /** The early console's characters are passed on per line, or once this many wait. */
    static final int EARLY_LINE_LIMIT = 512;

    private final boolean serialIsConsole;
    private LauncherDevice device;
    private Uart16450 serial;
    private final ByteArrayOutputStream earlyLine = new ByteArrayOutputStream();

    /** @param serialIsConsole whether the guest's console is the serial port (its early writer's output is a duplicate) */
    LinuxConsole(boolean serialIsConsole) {
        this.serialIsConsole = serialIsConsole;
    }

    /** The virtio personality whose output reaches the console device. */
    VirtioConsole personality() {
        return new VirtioConsole(this::transmit, this::emergencyWrite);
    }

    void bind(LauncherDevice device, Uart16450 serial) {
        this.device = device;
        this.serial = serial;
    }

    /** Input for the guest (the console model delivers at key 0): into the serial port, which is /dev/console. */
    int deliver(int key, ByteBuffer data) {
        return serial.receive(data);
    }

    /** The serial port's output. */
    void serialOutput(byte[] bytes) {
        flushEarly();
        output(new LauncherRequest(0, new ByteBuffer[] {ByteBuffer.wrap(bytes)}, () -> { }));
    }

    private void transmit(DeviceRequest request) {
        flushEarly();
        serial.flush();
        output(LauncherRequest.of(request));
    }

    private void emergencyWrite(int ch) {
        if (serialIsConsole) {
            return;
        }
        earlyLine.write(ch);
        if (ch == '\n' || earlyLine.size() >= EARLY_LINE_LIMIT) {
            flushEarly();
        }
    }

    /** Passes on what waits: the early console's partial line, the serial port's last piece. Also as the guest ends. */
    void flush() {
        flushEarly();
        serial.flush();
    }

    private void flushEarly() {
        if (earlyLine.size() == 0) {
            return;
        }
        byte[] line = earlyLine.toByteArray();
        earlyLine.reset();
        output(new LauncherRequest(VirtioConsole.TRANSMIT_QUEUE, new ByteBuffer[] {ByteBuffer.wrap(line)}, () -> { }));
    }

    private void output(LauncherRequest r) {
        try {
            device.output(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the guest is being stopped; its run loop sees it
            r.complete(0);
        }
    }
}
