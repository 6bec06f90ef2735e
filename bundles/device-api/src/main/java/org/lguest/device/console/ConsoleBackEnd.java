package org.lguest.device.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a console's bytes go and come from: the terminal of this process,
 * a buffer the shell and tests read and type into, a TCP socket. The
 * guest-facing model (lguest's console today, virtio-console later) does
 * the guest's side; a back end only moves bytes.
 */
@ConsumerType
public interface ConsoleBackEnd extends AutoCloseable {
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
