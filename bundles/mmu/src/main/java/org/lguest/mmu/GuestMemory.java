package org.lguest.mmu;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.PhysicalMemory;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One guest's physical memory, which is also its processor's physical
 * address space (hand it to {@code CpuFactory.create}).
 *
 * <pre>
 *   frame 0 .. pfnLimit-1        guest frames: RAM, device descriptor page, device pages
 *                                (private or shared), in the Launcher's order
 *   pfnLimit .. frameCount-1     host frames: a fixed pool for shadow page tables and
 *                                the Switcher's pages; the guest can never map them
 * </pre>
 *
 * Every frame is a {@code byte[4096]} allocated when the memory is built and
 * never replaced, so the processor may keep pointers to them.
 *
 * <h2>Host access</h2>
 * The accessors take guest-physical addresses as the guest supplied them: a
 * 32-bit value read as unsigned. Every access is checked: the range must not
 * wrap past 4 GiB and must end at or below {@code pfnLimit() << 12}. A bad
 * range throws {@link GuestViolationException} (kill the guest with its
 * reason) before any byte is read or written. Multi-byte values are
 * little-endian, as the guest stores them.
 *
 * <h2>Telling the processor</h2>
 * Host writes may land on guest code, so the processor must drop what it
 * decoded there ({@link Cpu#physicalWritten}). {@link #attach(Cpu)} the
 * guest's processor from the thread that runs it: writes made on that thread
 * are told at once; writes from other threads (device drivers, another
 * guest's DMA into shared frames) are queued per page and told by
 * {@link #deliverPendingWrites()}, which the run loop calls before every
 * {@code Cpu.run}.
 *
 * <p>Host accessors are thread-safe in the sense DMA is: concurrent writers
 * to the same bytes race as they would on real memory. The host frame pool is
 * thread-safe.
 */
@ProviderType
public interface GuestMemory extends PhysicalMemory, AutoCloseable {

    /** The first frame the guest may not address: RAM plus descriptor and device pages. */
    int pfnLimit();

    /** {@code pfnLimit() << 12} as an unsigned quantity. */
    long limitBytes();

    /**
     * Host memory taken for this guest's frames so far. A frame gets its
     * memory when it is first touched (by the guest's processor, a device or
     * the Launcher), so a guest that never uses half its RAM never costs it;
     * shared regions count where they were made, not here. All of it is given
     * back by {@link #close()}.
     */
    long touchedBytes();

    /** The guest regions in address order; together they cover [0, pfnLimit) exactly. */
    List<MemoryRegion> regions();

    /** The region called {@code name}. */
    Optional<MemoryRegion> region(String name);

    /**
     * Whether the guest may have the host touch {@code [address, address + length)}:
     * no wrap past 4 GiB, end at or below the limit. {@code length} 0 is valid at
     * any address up to the limit.
     */
    boolean isValid(int address, int length);

    /** Throws {@link GuestViolationException} unless {@link #isValid(int, int)}; the message names the range. */
    void check(int address, int length);

    void read(int address, byte[] into, int offset, int length);

    byte[] read(int address, int length);

    /** Copies {@code into.remaining()} bytes from guest memory into the buffer (for device back ends). */
    void read(int address, ByteBuffer into);

    int readU8(int address);

    int readU16(int address);

    int readU32(int address);

    void write(int address, byte[] from, int offset, int length);

    void write(int address, byte[] from);

    /** Copies {@code from.remaining()} bytes of the buffer into guest memory. */
    void write(int address, ByteBuffer from);

    void writeU8(int address, int value);

    void writeU16(int address, int value);

    void writeU32(int address, int value);

    /** Sets {@code length} bytes to zero. */
    void zero(int address, int length);

    /**
     * The guest-independent name of {@code address} when it lies in a shared
     * region (for matching DMA keys across guests), empty for private memory.
     * Throws {@link GuestViolationException} for an address outside guest memory.
     */
    Optional<SharedAddress> sharedAddress(int address);

    /**
     * Makes {@code cpu} the processor told about host writes, and the calling
     * thread the one that may tell it directly. The processor must have been
     * created over this memory.
     */
    void attach(Cpu cpu);

    /** The attached processor, if any. */
    Optional<Cpu> cpu();

    /**
     * Tells the attached processor about every host write queued from other
     * threads, and about the frames of shared regions another guest also holds
     * (whose processor may have stored there). Call it on the processor's
     * thread before each run.
     */
    void deliverPendingWrites();

    /** Host frames in the pool (fixed at creation). */
    int hostFrameCount();

    /** Host frames not handed out. */
    int freeHostFrames();

    /**
     * Takes a zeroed frame from the host pool and returns its frame number
     * ({@code >= pfnLimit()}; the array is {@link #frame(int)}). Throws
     * {@link IllegalStateException} when the pool is empty: host frames are a
     * host resource, sized when the memory was built.
     */
    int allocateHostFrame();

    /** Returns a frame taken with {@link #allocateHostFrame()} to the pool (it is zeroed). */
    void freeHostFrame(int pfn);

    /**
     * Detaches from shared regions and drops the processor; later host
     * accesses throw {@link IllegalStateException}. The frames themselves stay
     * valid for a processor still holding them.
     */
    @Override
    void close();
}
