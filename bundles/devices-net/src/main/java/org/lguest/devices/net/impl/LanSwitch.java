package org.lguest.devices.net.impl;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.lguest.device.net.FrameBackEnd;

/**
 * The inter-guest LANs of virtio (Linux 4.x) guests: one learning Ethernet
 * switch per LAN name, each guest's network device a {@link Port} on it.
 *
 * <p>2.6.23 guests on {@code lan:NAME} share a page of peer map and send to
 * each other through the hypervisor's DmaRouter; virtio has no such
 * mechanism, so their LAN is this switch, and the two kinds of LAN do not
 * meet. A frame sent on a port goes to the port that last sent from its
 * destination address, or to every other port when the address is a group
 * address or unknown. Each port has its own bounded queue and thread: the
 * sender never waits for a receiving guest (two guests sending to each other
 * at once cannot block each other), and a port whose guest does not take its
 * frames fills its queue and then drops, counted, as a switch port does.
 */
final class LanSwitch {
    /** Frames a port holds for its guest before it drops. */
    static final int PORT_QUEUE = 256;

    private final String name;
    private final List<Port> ports = new ArrayList<>();
    /** Address (48 bits) to the port it was last seen on. */
    private final Map<Long, Port> learned = new ConcurrentHashMap<>();

    private LanSwitch(String name) {
        this.name = name;
    }

    /** The switches of one driver, by LAN name. */
    static final class Registry {
        private final Map<String, LanSwitch> switches = new LinkedHashMap<>();

        /** A new port on LAN {@code name} (the switch is made with its first port and forgotten with its last). */
        synchronized Port join(String name) {
            LanSwitch s = switches.computeIfAbsent(name, LanSwitch::new);
            Port p = s.new Port();
            synchronized (s) {
                s.ports.add(p);
            }
            return p;
        }

        synchronized void leave(Port p) {
            LanSwitch s = p.owner();
            synchronized (s) {
                s.ports.remove(p);
                s.learned.values().removeIf(q -> q == p);
                if (s.ports.isEmpty()) {
                    switches.remove(s.name);
                }
            }
        }

        synchronized int ports(String name) {
            LanSwitch s = switches.get(name);
            return s == null ? 0 : s.ports.size();
        }
    }

    private static long address(ByteBuffer frame, int at) {
        long a = 0;
        for (int i = 0; i < 6; i++) {
            a = a << 8 | (frame.get(frame.position() + at + i) & 0xFF);
        }
        return a;
    }

    /** One guest's socket on the switch, as the wire its device model drives. */
    final class Port implements FrameBackEnd {
        private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(PORT_QUEUE);
        private volatile Receiver receiver;
        private volatile boolean closed;
        private Thread pump;
        private final AtomicLong framesOut = new AtomicLong(), framesIn = new AtomicLong(), bytesOut = new AtomicLong(),
                bytesIn = new AtomicLong(), queueDrops = new AtomicLong(), guestDrops = new AtomicLong();

        LanSwitch owner() {
            return LanSwitch.this;
        }

        @Override
        public byte[] mac() {
            return new byte[6]; // a switch port has no address of its own
        }

        /** Switches one frame: to the port that owns its destination, or to all others. */
        @Override
        public boolean send(ByteBuffer frame) {
            if (closed) {
                return false;
            }
            long destination = address(frame, 0);
            learned.put(address(frame, 6), this);
            byte[] copy = new byte[frame.remaining()];
            frame.duplicate().get(copy);
            framesOut.incrementAndGet();
            bytesOut.addAndGet(copy.length);
            boolean group = (destination & 0x0100_0000_0000L) != 0;
            Port to = group ? null : learned.get(destination);
            if (to != null && to != this) {
                to.offer(copy);
            } else if (to == null) {
                List<Port> all;
                synchronized (LanSwitch.this) {
                    all = List.copyOf(ports);
                }
                for (Port p : all) {
                    if (p != this) {
                        p.offer(copy);
                    }
                }
            }
            return true;
        }

        private void offer(byte[] frame) {
            if (closed || !queue.offer(frame)) {
                queueDrops.incrementAndGet();
            }
        }

        @Override
        public synchronized void start(Receiver r) {
            if (pump != null) {
                throw new IllegalStateException("started already");
            }
            receiver = Objects.requireNonNull(r);
            pump = Thread.ofPlatform().daemon().name("lguest-lan-" + name).start(this::pump);
        }

        private void pump() {
            while (!closed) {
                byte[] frame;
                try {
                    frame = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (receiver.receive(ByteBuffer.wrap(frame))) {
                    framesIn.incrementAndGet();
                    bytesIn.addAndGet(frame.length);
                } else {
                    guestDrops.incrementAndGet();
                }
            }
        }

        @Override
        public String describe() {
            return "LAN " + name + " (a switch of " + ports.size() + " ports)";
        }

        @Override
        public Map<String, Long> metrics() {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("lan.framesOut", framesOut.get());
            m.put("lan.bytesOut", bytesOut.get());
            m.put("lan.framesIn", framesIn.get());
            m.put("lan.bytesIn", bytesIn.get());
            m.put("lan.queueDrops", queueDrops.get());
            m.put("lan.guestDrops", guestDrops.get());
            return m;
        }

        /** A hot swap: the port goes; the replacement driver's switch gets a new one. */
        @Override
        public void detach() {
            close();
        }

        @Override
        public void close() {
            closed = true;
            Thread t;
            synchronized (this) {
                t = pump;
            }
            if (t != null) {
                t.interrupt();
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
