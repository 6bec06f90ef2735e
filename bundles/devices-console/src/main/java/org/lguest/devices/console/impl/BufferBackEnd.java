package org.lguest.devices.console.impl;

import org.lguest.device.console.ConsoleBackEnd;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The console kept in memory, for the shell ({@code lguest:console ID},
 * {@code lguest:input ID TEXT}) and tests: output goes to the device's
 * {@link OutputRing} only (the model keeps it for every back end); input
 * comes from {@link ConsoleDevice#input}.
 */
final class BufferBackEnd implements ConsoleBackEnd {
    @Override
    public void write(ByteBuffer data) {
        // The ring in ConsoleDevice is this back end's whole output.
    }

    @Override
    public void startInput(Consumer<byte[]> input) {
        // no source of its own: input is injected
    }

    @Override
    public void close() {
    }

    @Override
    public String name() {
        return "buffer";
    }
}
