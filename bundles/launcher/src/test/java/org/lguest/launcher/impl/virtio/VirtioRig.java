package org.lguest.launcher.impl.virtio;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.impl.MmuComponent;

/**
 * A guest's side of the virtio PCI transport, for tests: real guest memory
 * (the MMU's), a bus with a console at slot 1, a "guest thread" executor whose
 * tasks run only when the test says the guest has stopped, the IRQs raised,
 * and helpers that touch ports, MMIO and rings the way Linux 4.9 does.
 */
final class VirtioRig {
    static final int PAGES = 64;
    /** After RAM (64 pages) and 256 device pages. */
    static final long MMIO_BASE = PAGES * 4096L + (256 << 12);
    /** Each queue q has its rings at RINGS + q * 0x4000: descriptors, then available (+0x1000), then used (+0x2000). */
    static final int RINGS = 0x10000;
    static final int BUFFERS = 0x20000;

    final GuestMemory memory = new MmuComponent().newGuestMemory(PAGES).build();
    final Queue<Runnable> guestTasks = new ConcurrentLinkedQueue<>();
    final List<Integer> irqs = new CopyOnWriteArrayList<>();
    final List<DeviceRequest> transmitted = Collections.synchronizedList(new ArrayList<>());
    final StringBuilder emergency = new StringBuilder();
    final PciBus bus = new PciBus(MMIO_BASE);
    final VirtioPciDevice console = device(new VirtioConsole(transmitted::add, c -> emergency.append((char) c)), 1);

    VirtioRig() {
        bus.add(console);
    }

    VirtioPciDevice device(VirtioPersonality p, int irq) {
        return new VirtioPciDevice(p, memory, irq, guestTasks::add, irqs::add);
    }

    /** The guest stopped: run what was posted to its thread. Returns how many tasks ran. */
    int runGuestTasks() {
        int n = 0;
        for (Runnable r; (r = guestTasks.poll()) != null; n++) {
            r.run();
        }
        return n;
    }

    // ---- configuration mechanism #1, as arch/x86/pci/early.c does it ------------

    static int address(int slot, int offset) {
        return 0x8000_0000 | slot << 11 | offset;
    }

    int cfgRead(int slot, int offset, int size) {
        bus.portOut(PciBus.CONFIG_ADDRESS, 4, address(slot, offset));
        return bus.portIn(PciBus.CONFIG_DATA + (offset & 3), size);
    }

    void cfgWrite(int slot, int offset, int size, int value) {
        bus.portOut(PciBus.CONFIG_ADDRESS, 4, address(slot, offset));
        bus.portOut(PciBus.CONFIG_DATA + (offset & 3), size, value);
    }

    /** The config-space offset of the first vendor capability of {@code cfgType} on {@code slot}, walking as Linux does; 0 if none. */
    int findCapability(int slot, int cfgType) {
        for (int cap = cfgRead(slot, 0x34, 1), ttl = 48; cap != 0 && ttl > 0; cap = cfgRead(slot, cap + 1, 1), ttl--) {
            if (cfgRead(slot, cap, 1) == 0x09 && cfgRead(slot, cap + 3, 1) == cfgType) {
                return cap;
            }
        }
        return 0;
    }

    // ---- BAR0 -----------------------------------------------------------------

    int read(VirtioPciDevice d, int offset, int size) {
        return bus.mmioRead(d.pci().bar0() + offset, size);
    }

    void write(VirtioPciDevice d, int offset, int size, int value) {
        bus.mmioWrite(d.pci().bar0() + offset, size, value);
    }

    /** Linux's virtio core up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, accept {@code features}, FEATURES_OK. Returns the status read back. */
    int negotiate(VirtioPciDevice d, long features) {
        write(d, VirtioPci.DEVICE_STATUS, 1, 0);
        write(d, VirtioPci.DEVICE_STATUS, 1, 1);
        write(d, VirtioPci.DEVICE_STATUS, 1, 3);
        write(d, VirtioPci.DRIVER_FEATURE_SELECT, 4, 0);
        write(d, VirtioPci.DRIVER_FEATURE, 4, (int) features);
        write(d, VirtioPci.DRIVER_FEATURE_SELECT, 4, 1);
        write(d, VirtioPci.DRIVER_FEATURE, 4, (int) (features >>> 32));
        write(d, VirtioPci.DEVICE_STATUS, 1, 3 | 8);
        return read(d, VirtioPci.DEVICE_STATUS, 1);
    }

    static int desc(int q) {
        return RINGS + q * 0x4000;
    }

    static int avail(int q) {
        return desc(q) + 0x1000;
    }

    static int used(int q) {
        return desc(q) + 0x2000;
    }

    /** setup_vq and find_vqs of virtio_pci_modern.c, with the rings at {@link #desc}, {@link #avail}, {@link #used}. */
    void setUpQueue(VirtioPciDevice d, int q) {
        setUpQueue(d, q, desc(q), avail(q), used(q));
    }

    void setUpQueue(VirtioPciDevice d, int q, int desc, int avail, int used) {
        write(d, VirtioPci.QUEUE_SELECT, 2, q);
        int size = read(d, VirtioPci.QUEUE_SIZE, 2);
        write(d, VirtioPci.QUEUE_SIZE, 2, size);
        write(d, VirtioPci.QUEUE_DESC_LO, 4, desc);
        write(d, VirtioPci.QUEUE_DESC_HI, 4, 0);
        write(d, VirtioPci.QUEUE_AVAIL_LO, 4, avail);
        write(d, VirtioPci.QUEUE_AVAIL_HI, 4, 0);
        write(d, VirtioPci.QUEUE_USED_LO, 4, used);
        write(d, VirtioPci.QUEUE_USED_HI, 4, 0);
        write(d, VirtioPci.QUEUE_ENABLE, 2, 1);
    }

    void notify(VirtioPciDevice d, int q) {
        write(d, VirtioPci.NOTIFY, 2, q);
    }

    // ---- rings ----------------------------------------------------------------

    void descriptor(int q, int i, long addr, int len, int flags, int next) {
        int at = desc(q) + 16 * i;
        memory.writeU32(at, (int) addr);
        memory.writeU32(at + 4, (int) (addr >>> 32));
        memory.writeU32(at + 8, len);
        memory.writeU16(at + 12, flags);
        memory.writeU16(at + 14, next);
    }

    /** Puts {@code heads} in the available ring of queue {@code q} and advances its index. */
    void makeAvailable(int q, int... heads) {
        int idx = memory.readU16(avail(q) + 2);
        for (int h : heads) {
            memory.writeU16(avail(q) + 4 + 2 * (idx & 255), h);
            idx = (idx + 1) & 0xFFFF;
        }
        memory.writeU16(avail(q) + 2, idx);
    }

    int usedIdx(int q) {
        return memory.readU16(used(q) + 2);
    }

    int usedId(int q, int slot) {
        return memory.readU32(used(q) + 4 + 8 * slot);
    }

    int usedLen(int q, int slot) {
        return memory.readU32(used(q) + 8 + 8 * slot);
    }

    void put(int address, String text) {
        memory.write(address, text.getBytes(StandardCharsets.US_ASCII));
    }

    String get(int address, int length) {
        return new String(memory.read(address, length), StandardCharsets.US_ASCII);
    }
}
