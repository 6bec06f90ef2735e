package org.lguest.devices.console.impl;

import org.lguest.device.console.ConsoleBackEnd;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.lg.abi.DevicePage;
import org.lguest.lg.abi.LguestDma;
import org.osgi.service.component.annotations.Component;

/**
 * The console driver service: opens a {@link ConsoleDevice} for each guest
 * console, with the back end its configuration names
 * ({@code backend=buffer}, the default; {@code backend=terminal} or
 * {@code stdio}; {@code backend=tcp:PORT}, a loopback listener).
 */
@Component(service = DeviceDriver.class, property = DeviceDriver.TYPE + "=console")
public final class ConsoleDriver implements DeviceDriver {
    @Override
    public int deviceType() {
        return DevicePage.TYPE_CONSOLE;
    }

    /** The console has no page; the guest sends its output to key 0 (abi §8.2). */
    @Override
    public int key(int pagesAddress) {
        return LguestDma.CONSOLE_KEY;
    }

    @Override
    public DeviceModel open(DeviceContext context) throws IOException {
        String name = context.configuration().getOrDefault("backend", "buffer");
        ConsoleBackEnd backEnd;
        if (name.startsWith("tcp:")) {
            int port;
            try {
                port = Integer.parseInt(name.substring(4));
            } catch (NumberFormatException e) {
                throw new IOException("console " + name + ": not a port (tcp:PORT, 0 takes a free one)");
            }
            backEnd = new TcpBackEnd(port);
        } else {
            backEnd = switch (name) {
                case "buffer" -> new BufferBackEnd();
                // The process's own descriptors: System.out may be redirected by the framework or a shell.
                case "terminal", "stdio" -> new TerminalBackEnd(new FileOutputStream(FileDescriptor.out),
                        new FileInputStream(FileDescriptor.in));
                default -> throw new IOException("unknown console back end '" + name + "' (buffer, stdio or tcp:PORT)");
            };
        }
        return new ConsoleDevice(context, backEnd);
    }
}
