package org.lguest.devices.console.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Where a console's bytes go and come from: the terminal of this process,
 * or a buffer the shell and tests read and type into. The guest-facing
 * model ({@link ConsoleDevice}) does the DMA side; a back end only moves bytes.
 */
interface ConsoleBackEnd extends AutoCloseable {
    /** Writes what the guest printed. */
    void write(ByteBuffer data) throws IOException;

    /** Starts reading input, if this back end has a source of its own; each chunk goes to {@code input}. */
    void startInput(Consumer<byte[]> input);

    /** Stops reading input and releases the back end. */
    @Override
    void close();

    /** The name in configuration ({@code backend=...}) and metrics. */
    String name();
}
