package org.lguest.devices.net.impl;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.lguest.device.net.FrameBackEnd;

/**
 * A host TAP interface as a {@link FrameBackEnd}: 2.6.23's {@code --tunnet},
 * on {@code /dev/net/tun} through the JDK's foreign function interface.
 *
 * <p>Opening: {@code TUNSETIFF} with {@code IFF_TAP | IFF_NO_PI} for the
 * interface name, in the network namespace named by {@code netns} (the
 * opening thread {@code setns}es into {@code /run/netns/NAME} first; the
 * interface lives there, the file descriptor works from anywhere). An
 * interface that does not exist is made, and made persistent, so that an
 * update of this bundle (which closes this end and opens another) keeps the
 * interface, its addresses and its routes; it goes when the guest does. One
 * that existed (made by {@code ip tuntap add}) is only attached to and left
 * as it was. The host configures the interface (address, up): this class
 * never does.
 *
 * <p>Receiving: a thread of ours polls the TAP and an eventfd (which
 * {@link #close} and {@link #detach} signal); each frame goes to the model.
 * Frames the interface takes while no back end is attached (during an
 * update) are dropped by the host kernel and counted in its own interface
 * statistics, as on a real link without carrier.
 */
final class Tap implements FrameBackEnd {
    static final String DEVICE = "/dev/net/tun";
    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETPERSIST = 0x400454cbL;
    static final long SIOCGIFHWADDR = 0x8927L;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_TUN_EXCL = (short) 0x8000;
    static final int IFREQ_SIZE = 40;
    private static final int READ_BUFFER = 65536;

    private final String name;
    private final String netns;
    private final int fd;
    private final int wake;
    private final boolean createdHere;
    private final byte[] mac;
    private Thread reader;
    private volatile boolean stopping;

    private final AtomicLong framesOut = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private final AtomicLong framesIn = new AtomicLong();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong droppedIn = new AtomicLong();
    private final AtomicLong droppedTooLong = new AtomicLong();
    private final AtomicLong sendErrors = new AtomicLong();

    private Tap(String name, String netns, int fd, int wake, boolean createdHere, byte[] mac) {
        this.name = name;
        this.netns = netns;
        this.fd = fd;
        this.wake = wake;
        this.createdHere = createdHere;
        this.mac = mac;
    }

    /**
     * Opens (making it if absent) the TAP interface {@code name}.
     *
     * @param before what the previous back end of this device handed over (whether it made the interface)
     * @throws IOException with a message a person can act on: no permission, no such namespace, not a TAP
     */
    static Tap open(String name, String netns, TapState before) throws IOException {
        AtomicReference<Object> result = new AtomicReference<>();
        Runnable opener = () -> {
            try {
                result.set(openHere(name, netns, before));
            } catch (IOException | RuntimeException e) {
                result.set(e);
            }
        };
        if (netns == null) {
            opener.run();
        } else {
            // setns moves only the calling thread: a thread of its own, which ends right after.
            Thread t = new Thread(opener, "lguest-tap-open-" + name);
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while opening TAP " + name);
            }
        }
        Object r = result.get();
        if (r instanceof Tap tap) {
            return tap;
        }
        if (r instanceof IOException e) {
            throw e;
        }
        throw (RuntimeException) r;
    }

    private static Tap openHere(String name, String netns, TapState before) throws IOException {
        if (netns != null) {
            int ns;
            try {
                ns = Linux.open("/run/netns/" + netns, Linux.O_RDONLY | Linux.O_CLOEXEC);
            } catch (Linux.Errno e) {
                throw new IOException("no network namespace " + netns + " (/run/netns/" + netns + ": "
                        + Linux.Errno.describe(e.errno) + "; make it with ip netns add " + netns + ")");
            }
            try {
                Linux.setns(ns, Linux.CLONE_NEWNET, "setns " + netns);
            } catch (Linux.Errno e) {
                throw new IOException("cannot enter network namespace " + netns + ": " + e.getMessage()
                        + " (needs CAP_SYS_ADMIN)");
            } finally {
                Linux.close(ns);
            }
        }
        int fd;
        try {
            fd = Linux.open(DEVICE, Linux.O_RDWR | Linux.O_CLOEXEC);
        } catch (Linux.Errno e) {
            throw new IOException("cannot open " + DEVICE + " for TAP " + name + ": "
                    + Linux.Errno.describe(e.errno)
                    + (e.errno == Linux.ENOENT ? " (no tun driver: modprobe tun)" : " (needs access to " + DEVICE + ")"));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
            boolean created = true;
            ifr.set(ValueLayout.JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL));
            try {
                Linux.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF");
            } catch (Linux.Errno e) {
                if (e.errno != Linux.EBUSY) {
                    throw refusal(name, netns, e);
                }
                created = false; // it exists: attach to it
                ifr.set(ValueLayout.JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI));
                try {
                    Linux.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF");
                } catch (Linux.Errno again) {
                    throw refusal(name, netns, again);
                }
            }
            if (created) {
                Linux.ioctl(fd, TUNSETPERSIST, 1L, "TUNSETPERSIST");
            }
            Linux.ioctl(fd, SIOCGIFHWADDR, ifr, "SIOCGIFHWADDR");
            byte[] mac = new byte[6];
            MemorySegment.copy(ifr, ValueLayout.JAVA_BYTE, 18, mac, 0, 6);
            int wake = Linux.eventfd();
            return new Tap(name, netns, fd, wake, created || before.createdHere(), mac);
        } catch (Linux.Errno e) {
            Linux.close(fd);
            throw new IOException("TAP " + name + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }

    private static IOException refusal(String name, String netns, Linux.Errno e) {
        String where = netns == null ? "" : " in network namespace " + netns;
        return switch (e.errno) {
            case Linux.EPERM, Linux.EACCES -> new IOException("no permission to use TAP " + name + where
                    + ": needs CAP_NET_ADMIN, or a persistent TAP made for this user (ip tuntap add dev " + name
                    + " mode tap user USER)");
            case Linux.EINVAL -> new IOException(name + where + " exists and is not a TAP interface");
            default -> new IOException("cannot attach TAP " + name + where + ": " + e.getMessage());
        };
    }

    @Override
    public byte[] mac() {
        return mac.clone();
    }

    boolean createdHere() {
        return createdHere;
    }

    @Override
    public boolean send(ByteBuffer frame) throws IOException {
        int n = frame.remaining();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(Math.max(n, 1));
            MemorySegment.copy(MemorySegment.ofBuffer(frame), 0, seg, 0, n);
            Linux.write(fd, seg, n);
            frame.position(frame.limit());
            framesOut.incrementAndGet();
            bytesOut.addAndGet(n);
            return true;
        } catch (Linux.Errno e) {
            sendErrors.incrementAndGet(); // the interface is down, or its queue is full: the wire drops it
            return false;
        }
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (reader != null) {
            throw new IllegalStateException("TAP " + name + " is started already");
        }
        reader = new Thread(() -> receive(receiver), "lguest-tap-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    private void receive(Receiver receiver) {
        // Shared, not confined: the model hands the frame to the guest's thread (DeviceContext.deliver).
        MemorySegment buf = Arena.ofAuto().allocate(READ_BUFFER);
        try {
            while (!stopping) {
                if (Linux.pollIn(fd, wake) != 0) {
                    return; // woken to stop
                }
                long n = Linux.read(fd, buf, READ_BUFFER);
                if (n > MAX_FRAME || n < 14) {
                    droppedTooLong.incrementAndGet();
                    continue;
                }
                framesIn.incrementAndGet();
                bytesIn.addAndGet(n);
                ByteBuffer frame = buf.asSlice(0, n).asByteBuffer();
                if (!receiver.receive(frame)) {
                    droppedIn.incrementAndGet();
                }
            }
        } catch (Linux.Errno e) {
            if (!stopping) {
                System.getLogger(Tap.class.getName()).log(System.Logger.Level.WARNING,
                        "TAP {0}: receiving stopped: {1}", name, e.getMessage());
            }
        }
    }

    @Override
    public String describe() {
        return "TAP " + name + (netns == null ? "" : " in netns " + netns)
                + (createdHere ? " (made for this guest)" : " (attached)") + ", host MAC " + PeerMap.format(mac);
    }

    @Override
    public Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tapFramesOut", framesOut.get());
        m.put("tapBytesOut", bytesOut.get());
        m.put("tapFramesIn", framesIn.get());
        m.put("tapBytesIn", bytesIn.get());
        m.put("tapSendErrors", sendErrors.get());
        m.put("tapDroppedTooLong", droppedTooLong.get());
        m.put("tapDroppedNoBuffer", droppedIn.get());
        return m;
    }

    private void stopReader() {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = reader;
        }
        if (t != null) {
            try {
                Linux.signal(wake);
                t.join(5000);
            } catch (Linux.Errno e) {
                // the reader ends at its next frame
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Linux.close(wake);
    }

    @Override
    public void detach() {
        stopReader();
        Linux.close(fd); // persistent (if we made it): the interface stays for the replacement
    }

    @Override
    public void close() {
        stopReader();
        if (createdHere) {
            try {
                Linux.ioctl(fd, TUNSETPERSIST, 0L, "TUNSETPERSIST");
            } catch (Linux.Errno e) {
                System.getLogger(Tap.class.getName()).log(System.Logger.Level.WARNING,
                        "TAP {0}: could not drop persistence: {1}", name, e.getMessage());
            }
        }
        Linux.close(fd); // the last descriptor of a non-persistent interface: it goes
    }
}
