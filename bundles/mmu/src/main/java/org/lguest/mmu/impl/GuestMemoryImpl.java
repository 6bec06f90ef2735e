package org.lguest.mmu.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLongArray;

import org.lguest.cpu.Cpu;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.MemoryRegion;
import org.lguest.mmu.SharedAddress;

final class GuestMemoryImpl implements GuestMemory {
    /** Frames in a 32-bit physical address space. */
    static final int MAX_FRAMES = 1 << 20;

    static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FRAME = MethodHandles.arrayElementVarHandle(byte[][].class);

    private static final int PAGE_MASK = PAGE_SIZE - 1;

    /** Frame arrays by pfn; null until first touched (or where no memory is, see {@link #backed}). */
    private final byte[][] frames;
    /** One bit per pfn that has memory behind it: RAM regions and the host frame pool. */
    private final long[] backed;
    /** Frames given an array so far (first touches, shared frames excluded). */
    private final java.util.concurrent.atomic.AtomicInteger touched = new java.util.concurrent.atomic.AtomicInteger();
    private final int pfnLimit;
    private final long limitBytes;
    private final List<MemoryRegion> regions;
    private final List<MemoryRegion> sharedRegions;

    // The host frame pool: frames [pfnLimit, pfnLimit + hostFrames). Guarded by itself.
    private final int hostFrames;
    private final int[] freeStack;
    private int freeCount;
    private final boolean[] taken;

    // Host writes not yet told to the processor, one bit per guest frame.
    private final AtomicLongArray pending;
    private volatile boolean anyPending;

    private volatile Cpu cpu;
    private volatile Thread cpuThread;
    private volatile boolean closed;

    GuestMemoryImpl(List<MemoryRegion> regions, int pfnLimit, int hostFrames) {
        this.regions = regions;
        this.sharedRegions = regions.stream().filter(MemoryRegion::isShared).toList();
        this.pfnLimit = pfnLimit;
        this.limitBytes = (long) pfnLimit << PAGE_SHIFT;
        this.hostFrames = hostFrames;
        this.frames = new byte[pfnLimit + hostFrames][];
        this.backed = new long[(pfnLimit + hostFrames + 63) >>> 6];
        for (MemoryRegion r : regions) {
            for (int i = 0; i < r.pages(); i++) {
                int pfn = r.firstPfn() + i;
                backed[pfn >>> 6] |= 1L << (pfn & 63);
                if (r.isShared()) {
                    frames[pfn] = ((SharedRegionImpl) r.shared()).frame(i);
                }
            }
        }
        this.freeStack = new int[hostFrames];
        this.taken = new boolean[hostFrames];
        for (int i = 0; i < hostFrames; i++) {
            int pfn = pfnLimit + i;
            backed[pfn >>> 6] |= 1L << (pfn & 63);
            freeStack[i] = pfnLimit + hostFrames - 1 - i; // lowest frame handed out first
        }
        this.freeCount = hostFrames;
        this.pending = new AtomicLongArray((pfnLimit + 63) >>> 6);
        for (MemoryRegion r : sharedRegions) {
            ((SharedRegionImpl) r.shared()).addHolder(this, r.firstPfn());
        }
    }

    // ---- PhysicalMemory ----

    @Override
    public int frameCount() {
        return frames.length;
    }

    @Override
    public byte[] frame(int pfn) {
        if (pfn < 0 || pfn >= frames.length) {
            return null;
        }
        byte[] f = frames[pfn];
        if (f != null) {
            return f; // the processor's TLB fill: one array read (close() empties the table)
        }
        return !closed && (backed[pfn >>> 6] & 1L << (pfn & 63)) != 0 ? touch(pfn) : null;
    }

    /** The array behind a frame already checked to have memory, given it on first touch. */
    private byte[] ram(int pfn) {
        byte[] f = frames[pfn];
        return f != null ? f : touch(pfn);
    }

    /**
     * First touch of a frame: it gets its zeroed array now. Any thread may get
     * here (the processor's, a device's); one array wins and every caller sees it.
     */
    private byte[] touch(int pfn) {
        byte[] fresh = new byte[PAGE_SIZE];
        byte[] before = (byte[]) FRAME.compareAndExchange(frames, pfn, (byte[]) null, fresh);
        if (before != null) {
            return before;
        }
        if (closed) {
            // close() ran between this caller's check and its first touch: the frame must not outlive it
            FRAME.compareAndExchange(frames, pfn, fresh, (byte[]) null);
            throw new IllegalStateException("guest memory is closed");
        }
        touched.incrementAndGet();
        return fresh;
    }

    @Override
    public long touchedBytes() {
        return (long) touched.get() << PAGE_SHIFT;
    }

    // ---- layout ----

    @Override
    public int pfnLimit() {
        return pfnLimit;
    }

    @Override
    public long limitBytes() {
        return limitBytes;
    }

    @Override
    public List<MemoryRegion> regions() {
        return regions;
    }

    @Override
    public Optional<MemoryRegion> region(String name) {
        return regions.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    // ---- checks ----

    @Override
    public boolean isValid(int address, int length) {
        return Integer.toUnsignedLong(address) + Integer.toUnsignedLong(length) <= limitBytes;
    }

    @Override
    public void check(int address, int length) {
        long start = Integer.toUnsignedLong(address);
        long len = Integer.toUnsignedLong(length);
        long end = start + len;
        if (end <= limitBytes) {
            return;
        }
        if (end > 1L << 32) {
            throw new GuestViolationException(String.format(
                    "bad guest-physical address 0x%08x length %d: the range wraps past 4 GiB", address, len));
        }
        throw new GuestViolationException(String.format(
                "bad guest-physical address 0x%08x length %d: guest memory ends at 0x%08x", address, len, limitBytes));
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("guest memory is closed");
        }
    }

    private void access(int address, int length) {
        open();
        check(address, length);
    }

    // ---- reads ----

    @Override
    public void read(int address, byte[] into, int offset, int length) {
        access(address, length);
        Objects.checkFromIndexSize(offset, length, into.length);
        long a = Integer.toUnsignedLong(address);
        int done = 0;
        while (done < length) {
            int pfn = (int) (a >>> PAGE_SHIFT);
            int in = (int) (a & PAGE_MASK);
            int n = Math.min(length - done, PAGE_SIZE - in);
            System.arraycopy(ram(pfn), in, into, offset + done, n);
            done += n;
            a += n;
        }
    }

    @Override
    public byte[] read(int address, int length) {
        access(address, length);
        if (length < 0) {
            throw new IllegalArgumentException("cannot read " + Integer.toUnsignedString(length) + " bytes into one array");
        }
        byte[] b = new byte[length];
        read(address, b, 0, length);
        return b;
    }

    @Override
    public void read(int address, ByteBuffer into) {
        int length = into.remaining();
        access(address, length);
        if (into.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        long a = Integer.toUnsignedLong(address);
        int done = 0;
        while (done < length) {
            int in = (int) (a & PAGE_MASK);
            int n = Math.min(length - done, PAGE_SIZE - in);
            into.put(ram((int) (a >>> PAGE_SHIFT)), in, n);
            done += n;
            a += n;
        }
    }

    @Override
    public int readU8(int address) {
        access(address, 1);
        return ram(address >>> PAGE_SHIFT)[address & PAGE_MASK] & 0xFF;
    }

    @Override
    public int readU16(int address) {
        access(address, 2);
        int in = address & PAGE_MASK;
        if (in <= PAGE_SIZE - 2) {
            return (short) U16.get(ram(address >>> PAGE_SHIFT), in) & 0xFFFF;
        }
        return byteAt(address) | byteAt(address + 1) << 8;
    }

    @Override
    public int readU32(int address) {
        access(address, 4);
        int in = address & PAGE_MASK;
        if (in <= PAGE_SIZE - 4) {
            return (int) U32.get(ram(address >>> PAGE_SHIFT), in);
        }
        return byteAt(address) | byteAt(address + 1) << 8 | byteAt(address + 2) << 16 | byteAt(address + 3) << 24;
    }

    private int byteAt(int address) {
        return ram(address >>> PAGE_SHIFT)[address & PAGE_MASK] & 0xFF;
    }

    // ---- writes ----

    @Override
    public void write(int address, byte[] from, int offset, int length) {
        access(address, length);
        Objects.checkFromIndexSize(offset, length, from.length);
        long a = Integer.toUnsignedLong(address);
        int done = 0;
        while (done < length) {
            int pfn = (int) (a >>> PAGE_SHIFT);
            int in = (int) (a & PAGE_MASK);
            int n = Math.min(length - done, PAGE_SIZE - in);
            System.arraycopy(from, offset + done, ram(pfn), in, n);
            done += n;
            a += n;
        }
        written(address, length);
    }

    @Override
    public void write(int address, byte[] from) {
        write(address, from, 0, from.length);
    }

    @Override
    public void write(int address, ByteBuffer from) {
        int length = from.remaining();
        access(address, length);
        long a = Integer.toUnsignedLong(address);
        int done = 0;
        while (done < length) {
            int in = (int) (a & PAGE_MASK);
            int n = Math.min(length - done, PAGE_SIZE - in);
            from.get(ram((int) (a >>> PAGE_SHIFT)), in, n);
            done += n;
            a += n;
        }
        written(address, length);
    }

    @Override
    public void writeU8(int address, int value) {
        access(address, 1);
        ram(address >>> PAGE_SHIFT)[address & PAGE_MASK] = (byte) value;
        written(address, 1);
    }

    @Override
    public void writeU16(int address, int value) {
        access(address, 2);
        int in = address & PAGE_MASK;
        if (in <= PAGE_SIZE - 2) {
            U16.set(ram(address >>> PAGE_SHIFT), in, (short) value);
        } else {
            setByte(address, value);
            setByte(address + 1, value >>> 8);
        }
        written(address, 2);
    }

    @Override
    public void writeU32(int address, int value) {
        access(address, 4);
        int in = address & PAGE_MASK;
        if (in <= PAGE_SIZE - 4) {
            U32.set(ram(address >>> PAGE_SHIFT), in, value);
        } else {
            for (int i = 0; i < 4; i++) {
                setByte(address + i, value >>> (8 * i));
            }
        }
        written(address, 4);
    }

    @Override
    public void zero(int address, int length) {
        access(address, length);
        long a = Integer.toUnsignedLong(address);
        long end = a + Integer.toUnsignedLong(length);
        while (a < end) {
            int in = (int) (a & PAGE_MASK);
            int n = (int) Math.min(end - a, PAGE_SIZE - in);
            byte[] f = frames[(int) (a >>> PAGE_SHIFT)];
            if (f != null) { // an untouched frame is zero already, and stays untouched
                Arrays.fill(f, in, in + n, (byte) 0);
            }
            a += n;
        }
        written(address, length);
    }

    private void setByte(int address, int value) {
        ram(address >>> PAGE_SHIFT)[address & PAGE_MASK] = (byte) value;
    }

    // ---- telling the processor ----

    /** A host write to [address, address + length), already checked. */
    private void written(int address, int length) {
        if (length == 0) {
            return;
        }
        Cpu c = cpu;
        if (c != null) {
            if (Thread.currentThread() == cpuThread) {
                c.physicalWritten(Integer.toUnsignedLong(address), length);
            } else {
                markPending(Integer.toUnsignedLong(address), length);
            }
        }
        if (!sharedRegions.isEmpty()) {
            tellOtherHolders(Integer.toUnsignedLong(address), length);
        }
    }

    private void tellOtherHolders(long start, long length) {
        long end = start + length;
        for (MemoryRegion r : sharedRegions) {
            long rs = Integer.toUnsignedLong(r.address());
            long re = rs + r.size();
            long s = Math.max(start, rs);
            long e = Math.min(end, re);
            if (s >= e) {
                continue;
            }
            for (SharedRegionImpl.Holder h : ((SharedRegionImpl) r.shared()).holders()) {
                // Every other place the region appears: other guests, or another alias in this one.
                if (h.memory() != this || h.firstPfn() != r.firstPfn()) {
                    h.memory().markPending(((long) h.firstPfn() << PAGE_SHIFT) + (s - rs), e - s);
                }
            }
        }
    }

    /** Queues [start, start + length) to be told to the processor on its own thread. */
    void markPending(long start, long length) {
        if (cpu == null || length <= 0) {
            return;
        }
        int first = (int) (start >>> PAGE_SHIFT);
        int last = (int) ((start + length - 1) >>> PAGE_SHIFT);
        for (int pfn = first; pfn <= last; pfn++) {
            long bit = 1L << (pfn & 63);
            int word = pfn >>> 6;
            long old;
            do {
                old = pending.get(word);
            } while ((old & bit) == 0 && !pending.compareAndSet(word, old, old | bit));
        }
        anyPending = true;
    }

    @Override
    public void attach(Cpu cpu) {
        Objects.requireNonNull(cpu, "cpu");
        open();
        this.cpuThread = Thread.currentThread();
        this.cpu = cpu;
    }

    @Override
    public Optional<Cpu> cpu() {
        return Optional.ofNullable(cpu);
    }

    /** The attached processor or null (for the shadow tables' TLB invalidation). */
    Cpu attachedCpu() {
        return cpu;
    }

    @Override
    public void deliverPendingWrites() {
        Cpu c = cpu;
        if (c == null) {
            return;
        }
        // Another guest's processor may have stored into shared frames since our last slice, and no
        // host code saw it: treat frames held elsewhere as written (cross-modifying code is only
        // promised to be seen after serialisation on x86 too; a slice boundary is ours).
        for (MemoryRegion r : sharedRegions) {
            if (((SharedRegionImpl) r.shared()).holders().size() > 1) {
                c.physicalWritten(Integer.toUnsignedLong(r.address()), (int) r.size());
            }
        }
        if (!anyPending) {
            return;
        }
        anyPending = false;
        for (int word = 0; word < pending.length(); word++) {
            if (pending.get(word) == 0) {
                continue;
            }
            long bits = pending.getAndSet(word, 0);
            while (bits != 0) {
                int pfn = word << 6 | Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                c.physicalWritten((long) pfn << PAGE_SHIFT, PAGE_SIZE);
            }
        }
    }

    // ---- shared memory ----

    @Override
    public Optional<SharedAddress> sharedAddress(int address) {
        access(address, 1);
        int pfn = address >>> PAGE_SHIFT;
        for (MemoryRegion r : sharedRegions) {
            if (pfn >= r.firstPfn() && pfn < r.endPfn()) {
                long offset = Integer.toUnsignedLong(address) - Integer.toUnsignedLong(r.address());
                return Optional.of(new SharedAddress(r.shared(), offset));
            }
        }
        return Optional.empty();
    }

    // ---- host frame pool ----

    @Override
    public int hostFrameCount() {
        return hostFrames;
    }

    @Override
    public int freeHostFrames() {
        synchronized (freeStack) {
            return freeCount;
        }
    }

    @Override
    public int allocateHostFrame() {
        int pfn = tryAllocateHostFrame();
        if (pfn < 0) {
            throw new IllegalStateException(String.format(
                    "the host frame pool (%d frames) is exhausted; build the guest memory with more host frames", hostFrames));
        }
        return pfn;
    }

    /** A zeroed host frame, or -1 when the pool is empty. */
    int tryAllocateHostFrame() {
        open();
        synchronized (freeStack) {
            if (freeCount == 0) {
                return -1;
            }
            int pfn = freeStack[--freeCount];
            taken[pfn - pfnLimit] = true;
            return pfn;
        }
    }

    @Override
    public void freeHostFrame(int pfn) {
        synchronized (freeStack) {
            if (!isTakenHostFrame(pfn)) {
                throw new IllegalArgumentException(String.format("frame 0x%x is not a host frame in use", pfn));
            }
            taken[pfn - pfnLimit] = false;
            byte[] f = frames[pfn];
            if (f != null) { // a frame never touched is zero already
                Arrays.fill(f, (byte) 0);
            }
            freeStack[freeCount++] = pfn;
        }
    }

    /** Whether {@code pfn} is a host frame handed out by the pool. */
    boolean isTakenHostFrame(int pfn) {
        synchronized (freeStack) {
            return pfn >= pfnLimit && pfn < frames.length && taken[pfn - pfnLimit];
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemoryRegion r : sharedRegions) {
            ((SharedRegionImpl) r.shared()).removeHolder(this);
        }
        cpu = null;
        cpuThread = null;
        // The RAM goes back now, not when the last reference to this object does (an ended guest may stay listed).
        Arrays.fill(frames, null);
        touched.set(0);
    }

    @Override
    public String toString() {
        return String.format("GuestMemory[pfn limit 0x%x, %d host frames (%d free), regions %s]",
                pfnLimit, hostFrames, freeHostFrames(), regions.stream().map(MemoryRegion::name).toList());
    }
}
