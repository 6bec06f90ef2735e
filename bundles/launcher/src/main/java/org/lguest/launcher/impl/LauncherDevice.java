package org.lguest.launcher.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * The Launcher's side of one guest device (2.6.23's {@code struct device}):
 * its slot, keys and configuration, and the back end a driver opened for
 * it. Survives its driver: while no driver serves it, the guest's output
 * for it is held (bounded) and acknowledged, and handed to the next back
 * end before anything newer (architecture.md §4).
 */
final class LauncherDevice implements DeviceContext {
    private static final System.Logger LOG = System.getLogger(LauncherDevice.class.getName());

    private final GuestRunner guest;
    private final int index;
    private final String typeName;
    private final int type;
    private final int watchKey;
    private final int pagesPfn;
    private final int pageCount;
    private final Map<String, String> configuration;
    private final int heldLimit;
    private final long driverWaitNanos;
    private final int sharedMember;
    private Runnable leaveShared;
    /** How input reaches the guest on its thread: null for the DMA transport (GETDMA at the key), else the virtio device's input queues. */
    private final Delivery delivery;

    /** The virtio configuration the model gave last (features, config bytes), and who is told of a change. */
    private volatile long virtioFeatures = -1;
    private volatile byte[] virtioConfig;
    private volatile java.util.function.Consumer<byte[]> virtioConfigChanged = c -> { };

    /** Input into the guest through a transport other than DMA; called on the guest's thread. */
    interface Delivery {
        /** As {@link DeviceContext#deliver}: the bytes placed, or -1 when the guest has no buffer there. */
        int deliver(int key, ByteBuffer data);
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private DeviceDriver driver;
    private DeviceModel backEnd;
    private byte[] savedState = new byte[0];
    /** Output that came while no model served the device: copies, answered already, oldest first. */
    private final ArrayDeque<LauncherRequest> held = new ArrayDeque<>();
    private int heldBytes;
    private boolean closed;
    /** What the back end showed when the guest ended, so that the console of an ended guest can still be read. */
    private String lastTranscript;
    /** What the back end was and counted when the guest ended, for listings of an ended guest. */
    private String lastDescription;
    private Map<String, Long> lastMetrics = Map.of();
    /** The counts of back ends a swap replaced, added to the current one's (DeviceModel.gauges are not counts). */
    private final Map<String, Long> carried = new LinkedHashMap<>();
    private String lastDriver;

    private long outputs;
    private long outputBytes;
    private long heldTotal;
    private long driverChanges;
    /** When the last back end was closed by a driver going away (0: not since the last attach). */
    private long detachedAt;
    private long lastSwapMicros = -1;
    private long timeouts;
    private final java.util.concurrent.atomic.AtomicLong inputBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Requests given to a model and not answered yet, oldest first: replayed on the next model if this one goes. */
    private final java.util.concurrent.ConcurrentLinkedQueue<LauncherRequest> inFlight = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private long replayed;

    /** DeviceContext.onAbandon: what to write where when output waits too long for a driver. */
    private record Abandon(int address, int value, int key) {
    }

    private volatile Abandon abandon;
    private long abandoned;

    LauncherDevice(GuestRunner guest, int index, String typeName, int type, int watchKey, int pagesPfn, int pageCount,
            Map<String, String> configuration, int heldLimit, long driverWaitMillis) {
        this(guest, index, typeName, type, watchKey, pagesPfn, pageCount, configuration, heldLimit, driverWaitMillis, -1,
                () -> { });
    }

    /**
     * @param sharedMember the guest's member number on the shared region its pages are, or -1
     * @param leaveShared  run once when the device closes for good (leaves the shared region)
     */
    LauncherDevice(GuestRunner guest, int index, String typeName, int type, int watchKey, int pagesPfn, int pageCount,
            Map<String, String> configuration, int heldLimit, long driverWaitMillis, int sharedMember,
            Runnable leaveShared) {
        this(guest, index, typeName, type, watchKey, pagesPfn, pageCount, configuration, heldLimit, driverWaitMillis,
                sharedMember, leaveShared, null);
    }

    /**
     * A device of a 4.x guest, on the virtio-pci transport: no DMA key, no
     * device pages; its input goes through {@code delivery} (key = the
     * virtio input queue), its output comes in as requests the transport
     * made ({@link #output}).
     */
    LauncherDevice(GuestRunner guest, int index, String typeName, int type, Map<String, String> configuration,
            int heldLimit, long driverWaitMillis, Delivery delivery) {
        this(guest, index, typeName, type, -1, 0, 0, configuration, heldLimit, driverWaitMillis, -1, () -> { },
                java.util.Objects.requireNonNull(delivery));
    }

    private LauncherDevice(GuestRunner guest, int index, String typeName, int type, int watchKey, int pagesPfn,
            int pageCount, Map<String, String> configuration, int heldLimit, long driverWaitMillis, int sharedMember,
            Runnable leaveShared, Delivery delivery) {
        this.delivery = delivery;
        this.sharedMember = sharedMember;
        this.leaveShared = leaveShared;
        this.guest = guest;
        this.index = index;
        this.typeName = typeName;
        this.type = type;
        this.watchKey = watchKey;
        this.pagesPfn = pagesPfn;
        this.pageCount = pageCount;
        this.configuration = Map.copyOf(configuration);
        this.heldLimit = heldLimit;
        this.driverWaitNanos = TimeUnit.MILLISECONDS.toNanos(driverWaitMillis);
    }

    String typeName() {
        return typeName;
    }

    int type() {
        return type;
    }

    int watchKey() {
        return watchKey;
    }

    String label() {
        return typeName + index;
    }

    // ---- DeviceContext -------------------------------------------------

    @Override
    public int guestId() {
        return guest.id();
    }

    @Override
    public String guestName() {
        return guest.spec().name();
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public Map<String, String> configuration() {
        return configuration;
    }

    @Override
    public int pagesAddress() {
        return pagesPfn << 12;
    }

    @Override
    public int sharedMember() {
        return sharedMember;
    }

    @Override
    public int pageCount() {
        return pageCount;
    }

    @Override
    public GuestMemory memory() {
        return guest.memory();
    }

    @Override
    public Transport transport() {
        return delivery == null ? Transport.LGUEST_DMA : Transport.VIRTIO_PCI;
    }

    @Override
    public void virtioConfig(long features, byte[] config) {
        if (delivery == null) {
            return;
        }
        byte[] copy = config.clone();
        boolean first = virtioFeatures == -1;
        if (first) {
            virtioFeatures = features;
        }
        byte[] before = virtioConfig;
        virtioConfig = copy;
        if (!first && !java.util.Arrays.equals(before, copy)) {
            virtioConfigChanged.accept(copy);
        }
    }

    /** The device features the model offered when it first opened (-1: none yet). */
    long virtioFeatures() {
        return virtioFeatures;
    }

    /** The configuration the model gave last (null: none yet). */
    byte[] virtioConfiguration() {
        return virtioConfig;
    }

    /** Who is told when a later model gives a different configuration (called on the model's thread). */
    void onVirtioConfigChange(java.util.function.Consumer<byte[]> listener) {
        virtioConfigChanged = listener;
    }

    @Override
    public byte[] savedState() {
        lock.lock();
        try {
            return savedState.clone();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onAbandon(int address, int value, int key) {
        guest.memory().check(address, 4);
        abandon = new Abandon(address, value, key);
    }

    /**
     * The request timeout: when no driver serves this device and the oldest
     * output held for it has waited longer than {@code timeoutNanos}, the
     * device's abandon action answers the guest (an I/O error for a disk) and
     * the held output is dropped. Devices without an action keep waiting.
     */
    void expireHeld(long now, long timeoutNanos) {
        Abandon a = abandon;
        java.util.function.Consumer<LauncherRequest> v = virtioAbandon;
        if (a == null && v == null) {
            return;
        }
        int dropped = 0;
        long waited = 0;
        java.util.List<LauncherRequest> expired = new java.util.ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            inFlight.removeIf(LauncherRequest::isDone);
            LauncherRequest first = inFlight.peek();
            if (first != null && now - first.since >= timeoutNanos) {
                // a model that never answers, or no model to answer
                waited = now - first.since;
                for (LauncherRequest r : inFlight) {
                    r.revoke();
                    expired.add(r);
                }
                inFlight.clear();
                dropped += expired.size();
            }
            LauncherRequest oldest = held.peek();
            if (backEnd == null && oldest != null && now - oldest.since >= timeoutNanos) {
                waited = Math.max(waited, now - oldest.since);
                dropped += held.size();
                expired.addAll(held); // answered already, but for requests with room to write
                held.clear();
                heldBytes = 0;
            }
            if (dropped == 0) {
                return;
            }
            abandoned += dropped;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        String why = String.format("%s: %d request(s) waited %d ms for a %s driver: the guest gets an I/O error",
                label(), dropped, TimeUnit.NANOSECONDS.toMillis(waited), typeName);
        LOG.log(System.Logger.Level.WARNING, "guest {0}: {1}", guest.id(), why);
        guest.event(why);
        if (a != null) {
            guest.abandon(() -> guest.memory().writeU32(a.address(), a.value()), a.key());
        }
        for (LauncherRequest r : expired) {
            if (v != null && r.hasWritable()) {
                v.accept(r); // the transport's own error answer (virtio-blk: IOERR in the status byte)
            }
            r.complete(0); // the waiting sender goes on (after the abandon action, queued before this)
        }
    }

    /** The virtio transport's answer for a request abandoned this way (null: none; the request is completed empty). */
    private volatile java.util.function.Consumer<LauncherRequest> virtioAbandon;

    /** Sets how a virtio request the request timeout abandons is answered before it completes. */
    void onVirtioAbandon(java.util.function.Consumer<LauncherRequest> answer) {
        virtioAbandon = answer;
    }

    @Override
    public int deliver(int key, ByteBuffer data) {
        Delivery d = delivery;
        int placed = d == null ? guest.deliver(key, data) : guest.onGuestThread(() -> d.deliver(key, data));
        if (placed > 0) {
            inputBytes.addAndGet(placed); // no lock: a model's close may wait for this thread
        }
        return placed;
    }

    // ---- the guest's thread -------------------------------------------

    /** Live copies of the guest's output (Guest.watch). */
    private final java.util.List<java.util.function.Consumer<byte[]>> watchers = new java.util.concurrent.CopyOnWriteArrayList<>();

    AutoCloseable watch(java.util.function.Consumer<byte[]> sink) {
        watchers.add(sink);
        return () -> watchers.remove(sink);
    }

    private void tee(LauncherRequest r) {
        byte[] copy = r.bytes();
        for (java.util.function.Consumer<byte[]> w : watchers) {
            try {
                w.accept(copy);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest {0}: {1}: a watcher failed: {2}", guest.id(), label(), e.toString());
            }
        }
    }

    /**
     * Gives the guest's request to the model, which answers it now or later
     * (the guest's thread waits for the answer, GuestRunner.await). Without
     * a model the request is copied, held (bounded) and answered at once
     * with its length, to be given to the next model; when the held buffer
     * is full, waits for a driver up to the timeout and then answers 0
     * (nothing taken) with an error. A hostile request (the model throws
     * GuestViolationException) ends the guest.
     */
    void output(LauncherRequest r) throws InterruptedException {
        if (!watchers.isEmpty()) {
            tee(r);
        }
        lock.lockInterruptibly();
        try {
            outputs++;
            long deadline = System.nanoTime() + driverWaitNanos;
            while (true) {
                if (backEnd != null) {
                    outputBytes += r.length();
                    submitTo(backEnd, r);
                    return;
                }
                int total = r.length();
                if (closed) {
                    r.complete(0);
                    return;
                }
                if (heldBytes + total <= heldLimit) {
                    heldBytes += total;
                    heldTotal += total;
                    outputBytes += total;
                    if (r.hasWritable()) {
                        held.add(r); // the model writes the answer: the guest waits for it, leaving the buffer alone
                    } else {
                        held.add(r.copied());
                        r.complete(total);
                    }
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    timeouts++;
                    LOG.log(System.Logger.Level.ERROR,
                            "guest {0}: no {1} driver for {2} s and {3} bytes of output held: output refused (the guest sees 0 bytes taken)",
                            guest.id(), typeName, TimeUnit.NANOSECONDS.toSeconds(driverWaitNanos), heldBytes);
                    guest.event("no " + typeName + " driver for " + TimeUnit.NANOSECONDS.toSeconds(driverWaitNanos)
                            + " s with the output buffer full: output refused");
                    r.complete(0);
                    return;
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: in flight, then to the model. A hostile request is thrown on; a failing model answers 0.
     * Answered requests leave the in-flight list here, as new ones come: not only when a timeout is checked
     * (devices without one kept every request they ever served: bench/soak.py saw 22 000 a minute).
     */
    private void submitTo(DeviceModel model, LauncherRequest r) {
        inFlight.removeIf(LauncherRequest::isDone);
        inFlight.add(r);
        try {
            model.submit(r.submission());
        } catch (GuestViolationException e) {
            inFlight.remove(r);
            r.revoke();
            throw e;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "guest {0}: {1} back end failed: {2}", guest.id(), label(), e.toString());
            inFlight.remove(r);
            r.complete(0);
        }
    }

    /** Requests the device still keeps for replay, answered ones not yet dropped included (for tests). */
    int trackedRequests() {
        return inFlight.size();
    }

    // ---- drivers ------------------------------------------------------

    boolean hasBackEnd() {
        lock.lock();
        try {
            return backEnd != null;
        } finally {
            lock.unlock();
        }
    }

    DeviceDriver driver() {
        lock.lock();
        try {
            return driver;
        } finally {
            lock.unlock();
        }
    }

    /** Opens a back end with {@code d} if the device has none, then hands it the held output. */
    void attach(DeviceDriver d) throws IOException {
        lock.lock();
        try {
            if (closed || backEnd != null) {
                return;
            }
            DeviceModel opened = d.open(this);
            if (opened == null) {
                throw new IOException("driver " + d + " opened no back end");
            }
            driver = d;
            backEnd = opened;
            driverChanges++;
            // First what the previous model had in flight (the guest still waits for those), in order ...
            inFlight.removeIf(LauncherRequest::isDone);
            for (LauncherRequest r : java.util.List.copyOf(inFlight)) {
                inFlight.remove(r);
                replayed++;
                try {
                    submitTo(opened, r);
                } catch (GuestViolationException e) {
                    guest.violation(e.reason());
                    r.complete(0);
                }
            }
            // ... then what came while no model served the device.
            while (!held.isEmpty()) {
                LauncherRequest h = held.poll();
                heldBytes -= h.length();
                try {
                    submitTo(opened, h);
                } catch (GuestViolationException e) {
                    guest.violation(e.reason()); // a hostile request that waited for this driver still kills
                    held.clear();
                    heldBytes = 0;
                    break;
                }
            }
            if (detachedAt != 0) {
                // From the old back end's close to the new one having taken the held output: the guest's I/O stall.
                lastSwapMicros = (System.nanoTime() - detachedAt) / 1000;
                detachedAt = 0;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The driver {@code d} went away: save its back end's state and close it. Returns whether this device used it. */
    boolean detach(DeviceDriver d) {
        lock.lock();
        try {
            if (driver != d || backEnd == null) {
                return false;
            }
            try {
                byte[] state = backEnd.saveState();
                savedState = state == null ? new byte[0] : state.clone();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest {0}: {1}: saving the back end''s state failed: {2}", guest.id(), label(), e.toString());
            }
            carry(backEnd);
            closeBackEnd(); // the model finishes what it is doing; what it did not answer stays in flight
            for (LauncherRequest r : inFlight) {
                r.revoke();
            }
            detachedAt = System.nanoTime();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: the back end's counts join the carried ones, as it goes. */
    private void carry(DeviceModel model) {
        try {
            java.util.Set<String> gauges = model.gauges();
            model.metrics().forEach((name, value) -> {
                if (!gauges.contains(name)) {
                    carried.merge(name, value, Long::sum);
                }
            });
        } catch (RuntimeException e) {
            // a failing back end's counts are lost
        }
    }

    /** The counts of the back ends replaced so far plus {@code current}'s (levels as {@code current} has them). */
    private Map<String, Long> withCarried(Map<String, Long> current) {
        Map<String, Long> m = new LinkedHashMap<>(current);
        carried.forEach((name, value) -> m.merge(name, value, Long::sum));
        return m;
    }

    /** The guest ended: closes the back end for good. */
    void close() {
        lock.lock();
        try {
            closed = true;
            if (backEnd != null) {
                try {
                    lastTranscript = backEnd.transcript().orElse(null);
                    lastDescription = backEnd.describe();
                    lastMetrics = Map.copyOf(withCarried(backEnd.metrics()));
                } catch (RuntimeException e) {
                    // nothing more from a failing back end
                }
                lastDriver = driverName(driver);
            }
            closeBackEnd();
            for (LauncherRequest r : inFlight) {
                r.revoke();
                r.complete(0);
            }
            inFlight.clear();
            changed.signalAll();
            if (leaveShared != null) {
                leaveShared.run();
                leaveShared = null;
            }
        } finally {
            lock.unlock();
        }
    }

    private void closeBackEnd() {
        if (backEnd != null) {
            try {
                backEnd.close();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest {0}: {1}: closing the back end failed: {2}", guest.id(), label(), e.toString());
            }
        }
        backEnd = null;
        driver = null;
    }

    // ---- for the shell ------------------------------------------------

    Optional<String> transcript() {
        lock.lock();
        try {
            StringBuilder text = new StringBuilder();
            if (backEnd != null) {
                backEnd.transcript().ifPresent(text::append);
            } else if (closed && lastTranscript != null) {
                text.append(lastTranscript);
            }
            for (LauncherRequest h : held) {
                text.append(new String(h.bytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
            return backEnd == null && text.isEmpty() ? Optional.empty() : Optional.of(text.toString());
        } finally {
            lock.unlock();
        }
    }

    boolean input(byte[] data) {
        lock.lock();
        DeviceModel b;
        try {
            b = backEnd;
        } finally {
            lock.unlock();
        }
        return b != null && b.input(data);
    }

    /** The device as listings show it. */
    org.lguest.launcher.Guest.DeviceInfo info() {
        Map<String, Long> counters = metrics();
        lock.lock();
        try {
            String what;
            if (backEnd == null && closed && lastDescription != null) {
                Map<String, Long> all = new LinkedHashMap<>(lastMetrics);
                all.putAll(counters);
                return new org.lguest.launcher.Guest.DeviceInfo(label(), lastDescription + " (closed)", lastDriver, all);
            }
            if (backEnd == null) {
                what = closed ? "(closed)" : "(no " + typeName + " driver: the guest's output is held)";
            } else {
                try {
                    what = backEnd.describe();
                } catch (RuntimeException e) {
                    what = "(" + e + ")";
                }
            }
            return new org.lguest.launcher.Guest.DeviceInfo(label(), what, driver == null ? "-" : driverName(driver),
                    counters);
        } finally {
            lock.unlock();
        }
    }

    /** The driver's bundle and version in a framework, else its class. */
    static String driverName(DeviceDriver d) {
        org.osgi.framework.Bundle b = null;
        try {
            b = org.osgi.framework.FrameworkUtil.getBundle(d.getClass());
        } catch (RuntimeException | LinkageError e) {
            // outside a framework
        }
        return b == null ? d.getClass().getName() : b.getSymbolicName() + " " + b.getVersion();
    }

    Map<String, Long> metrics() {
        lock.lock();
        try {
            Map<String, Long> m = new LinkedHashMap<>();
            if (backEnd != null) {
                try {
                    m.putAll(withCarried(backEnd.metrics()));
                } catch (RuntimeException e) {
                    // a failing back end has no metrics
                }
            } else if (!closed) {
                m.putAll(carried); // between two drivers: what the replaced ones counted
            }
            m.put("launcher.outputs", outputs);
            m.put("launcher.outputBytes", outputBytes);
            m.put("launcher.inputBytes", inputBytes.get());
            m.put("launcher.heldNow", (long) heldBytes);
            m.put("launcher.heldTotal", heldTotal);
            m.put("launcher.driverChanges", driverChanges);
            m.put("launcher.swapsSurvived", Math.max(0, driverChanges - 1));
            m.put("launcher.heldRequests", (long) held.size());
            m.put("launcher.inFlight", inFlight.stream().filter(r -> !r.isDone()).count());
            m.put("launcher.replayed", replayed);
            m.put("launcher.lastSwapMicros", lastSwapMicros);
            m.put("launcher.abandoned", abandoned);
            m.put("launcher.timeouts", timeouts);
            return m;
        } finally {
            lock.unlock();
        }
    }
}
