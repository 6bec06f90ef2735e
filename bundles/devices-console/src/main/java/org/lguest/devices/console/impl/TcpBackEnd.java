package org.lguest.devices.console.impl;

import org.lguest.device.console.ConsoleBackEnd;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The console on a TCP port of the loopback interface ({@code backend=tcp:PORT};
 * port 0 takes a free one): {@code telnet 127.0.0.1 PORT} or {@code nc} is the
 * guest's terminal. One client at a time, as {@code virsh console}: a second
 * is told the console is busy and closed. Output while nobody is connected
 * goes only to the console's transcript ({@code lguest:console}). Only
 * loopback is listened on: a guest's console is not for the network.
 *
 * <p>When the console bundle is replaced the listener closes (and the
 * client with it) and the replacement listens on the same port again.
 */
final class TcpBackEnd implements ConsoleBackEnd {
    static final byte[] BUSY = "lguest: this console is in use by another client\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocketChannel server;
    private final int port;
    private volatile SocketChannel client;
    private volatile boolean closed;
    private Thread acceptor;

    TcpBackEnd(int port) throws IOException {
        if (port < 0 || port > 65535) {
            throw new IOException("console tcp:" + port + ": not a port (0 takes a free one)");
        }
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            s.close();
            throw new IOException("console tcp:" + port + ": cannot listen on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
        server = s;
        this.port = ((InetSocketAddress) s.getLocalAddress()).getPort();
    }

    /** The port listened on (the one chosen when 0 was asked). */
    int port() {
        return port;
    }

    @Override
    public void write(ByteBuffer data) {
        SocketChannel c = client;
        if (c == null) {
            return;
        }
        ByteBuffer d = data.duplicate();
        try {
            synchronized (this) {
                while (d.hasRemaining()) {
                    c.write(d);
                }
            }
        } catch (IOException e) {
            drop(c);
        }
    }

    @Override
    public synchronized void startInput(Consumer<byte[]> input) {
        acceptor = Thread.ofPlatform().daemon().name("lguest-console-tcp-" + port).start(() -> serve(input));
    }

    private void serve(Consumer<byte[]> input) {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (client != null) {
                try (c) {
                    c.write(ByteBuffer.wrap(BUSY));
                } catch (IOException e) {
                    // a refused client's trouble is its own
                }
                continue;
            }
            client = c;
            Thread.ofPlatform().daemon().name("lguest-console-tcp-client-" + port).start(() -> read(c, input));
        }
    }

    private void read(SocketChannel c, Consumer<byte[]> input) {
        ByteBuffer buffer = ByteBuffer.allocate(1024);
        try {
            while (!closed) {
                buffer.clear();
                int n = c.read(buffer);
                if (n < 0) {
                    break;
                }
                byte[] chunk = new byte[n];
                buffer.flip().get(chunk);
                input.accept(chunk);
            }
        } catch (IOException e) {
            // the client went away
        }
        drop(c);
    }

    private void drop(SocketChannel c) {
        synchronized (this) {
            if (client == c) {
                client = null;
            }
        }
        try {
            c.close();
        } catch (IOException e) {
            // closing is all that is left
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // the listener is gone either way
        }
        SocketChannel c = client;
        if (c != null) {
            drop(c);
        }
        if (acceptor != null) {
            try {
                acceptor.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String name() {
        return "tcp 127.0.0.1:" + port;
    }
}
