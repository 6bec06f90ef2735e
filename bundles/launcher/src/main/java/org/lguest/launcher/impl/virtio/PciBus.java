package org.lguest.launcher.impl.virtio;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The guest's PCI bus 0 and its I/O ports, as the 4.x Launcher emulated them
 * ({@code tools/lguest/lguest.c}: {@code emulate_insn}, {@code pci_data_ioread}
 * and friends, {@code emulate_mmio}).
 *
 * <p><b>Configuration mechanism #1.</b> Port 0xCF8..0xCFB holds a 32-bit
 * address register (enable bit 31, bus 23:16, device 15:11, function 10:8,
 * register 7:2; byte and word accesses change their part of it, and it reads
 * back as written, which is how Linux's {@code pci_check_type1} detects the
 * mechanism). Port 0xCFC..0xCFF is the selected dword of configuration space;
 * an access at 0xCFC + n reaches its byte n. Only bus 0, function 0 exists:
 * slot 0 is a host bridge ({@link HostBridge}), slots 1.. hold the
 * {@link VirtioPciDevice}s in the order they were added (the caller adds the
 * console first: Linux's early console looks for it at 00:01.0). Everything
 * else (absent slots and functions, other buses, the enable bit clear,
 * non-zero reserved bits 30:24) reads all ones and ignores writes.
 *
 * <p><b>Port devices</b> outside PCI ({@link #attach}, the serial port) get
 * the accesses that fall wholly inside their range.
 *
 * <p><b>Other ports</b> read all ones, but port 0x64 (the PS/2 controller's
 * status) reads 1, as in the 4.x Launcher, so Linux does not wait for a
 * keyboard controller; writes to them are ignored. (The guest probes the PIC
 * at 0x20/0xA0, reads back all ones and uses its "null legacy PIC".)
 *
 * <p><b>MMIO.</b> Each device's BAR0 window is assigned when it is added:
 * from {@code mmioBase} up, each window aligned to its size (a power of
 * two), in order; {@link #mmioEnd()} is the end of the last. The guest may
 * reprogram a BAR (Linux sizes each one by writing all ones and restores
 * it); an access goes to the device whose BAR0, as currently programmed,
 * covers it, and to no one (reads all ones, writes ignored) when none does.
 * {@link #isMmio} tells the hypervisor which addresses are windows: the range
 * [{@code mmioBase}, {@code mmioEnd}). The command register's memory-enable
 * bit is not consulted (the 4.x Launcher ignored the command register).
 *
 * <p>All calls on the guest's thread (the devices are added before it runs).
 */
public final class PciBus implements IoSpace {
    public static final int CONFIG_ADDRESS = 0xCF8;
    public static final int CONFIG_DATA = 0xCFC;
    /** The PS/2 controller's status port: reads 1. */
    static final int PS2_STATUS = 0x64;
    static final int SLOTS = 32;

    private final PciFunction[] slots = new PciFunction[SLOTS];
    private record PortRange(int first, int count, PortDevice device) {
        boolean holds(int port, int size) {
            return port >= first && port + size <= first + count;
        }
    }

    private final List<PortRange> portDevices = new ArrayList<>();
    private final List<VirtioPciDevice> devices = new ArrayList<>();
    private final long mmioBase;
    private long mmioEnd;
    private int address;

    /**
     * @param mmioBase where the BAR windows start: above RAM and the device
     *                 pages (after RAM, 256 device pages (1 MiB), then the windows)
     */
    public PciBus(long mmioBase) {
        if (mmioBase <= 0 || mmioBase >= 1L << 32) {
            throw new IllegalArgumentException("MMIO base " + VirtioPci.hex(mmioBase) + " is not a 32-bit address above 0");
        }
        this.mmioBase = mmioBase;
        this.mmioEnd = mmioBase;
        slots[0] = new HostBridge();
    }

    /**
     * Puts {@code device} in the next free slot (1, 2, ...) and assigns its
     * BAR0 window; returns the slot.
     */
    public int add(VirtioPciDevice device) {
        Objects.requireNonNull(device);
        int slot = devices.size() + 1;
        if (slot >= SLOTS) {
            throw new IllegalStateException("bus 0 is full: " + (SLOTS - 1) + " devices");
        }
        long size = device.barSize();
        long window = (mmioEnd + size - 1) & -size;
        if (window + size > 1L << 32) {
            throw new IllegalStateException("no room below 4 GiB for the BAR0 window of " + device);
        }
        device.pci().assignBar0((int) window);
        mmioEnd = window + size;
        slots[slot] = device.pci();
        devices.add(device);
        return slot;
    }

    /**
     * Puts {@code device} on ports [{@code first}, {@code first + count}),
     * which must not overlap PCI's configuration ports, port 0x64 or
     * another device's.
     */
    public void attach(int first, int count, PortDevice device) {
        Objects.requireNonNull(device);
        if (first < 0 || count < 1 || first + count > 0x10000) {
            throw new IllegalArgumentException("ports " + first + " + " + count + " are not inside 0..0xFFFF");
        }
        PortRange r = new PortRange(first, count, device);
        if (first < CONFIG_DATA + 4 && CONFIG_ADDRESS < first + count || r.holds(PS2_STATUS, 1)) {
            throw new IllegalArgumentException(String.format("ports 0x%x..0x%x overlap the bus's own", first, first + count - 1));
        }
        for (PortRange o : portDevices) {
            if (first < o.first() + o.count() && o.first() < first + count) {
                throw new IllegalArgumentException(String.format("ports 0x%x..0x%x overlap another device's", first, first + count - 1));
            }
        }
        portDevices.add(r);
    }

    private PortRange portDevice(int port, int size) {
        for (PortRange r : portDevices) {
            if (r.holds(port, size)) {
                return r;
            }
        }
        return null;
    }

    /** The devices, slot 1 first. */
    public List<VirtioPciDevice> devices() {
        return List.copyOf(devices);
    }

    /** The first address of the device windows. */
    public long mmioBase() {
        return mmioBase;
    }

    /** The end (exclusive) of the device windows assigned so far. */
    public long mmioEnd() {
        return mmioEnd;
    }

    @Override
    public boolean isMmio(int address) {
        long a = address & 0xFFFFFFFFL;
        return a >= mmioBase && a < mmioEnd;
    }

    @Override
    public int portIn(int port, int size) {
        VirtioPci.checkSize(size);
        int mask = VirtioPci.mask(size);
        port &= 0xFFFF;
        if (port == PS2_STATUS) {
            return 1;
        }
        PortRange r = portDevice(port, size);
        if (r != null) {
            return r.device().in(port - r.first(), size) & mask;
        }
        if (port >= CONFIG_ADDRESS && port + size <= CONFIG_DATA) {
            return (address >>> (8 * (port - CONFIG_ADDRESS))) & mask;
        }
        if (port >= CONFIG_DATA && port + size <= CONFIG_DATA + 4) {
            PciFunction f = selected();
            return f == null ? mask : f.configRead(register() + port - CONFIG_DATA, size) & mask;
        }
        return mask;
    }

    @Override
    public void portOut(int port, int size, int value) {
        VirtioPci.checkSize(size);
        int mask = VirtioPci.mask(size);
        port &= 0xFFFF;
        PortRange r = portDevice(port, size);
        if (r != null) {
            r.device().out(port - r.first(), size, value & mask);
        } else if (port >= CONFIG_ADDRESS && port + size <= CONFIG_DATA) {
            int shift = 8 * (port - CONFIG_ADDRESS);
            address = (address & ~(mask << shift)) | ((value & mask) << shift);
        } else if (port >= CONFIG_DATA && port + size <= CONFIG_DATA + 4) {
            PciFunction f = selected();
            if (f != null) {
                f.configWrite(register() + port - CONFIG_DATA, size, value & mask);
            }
        }
    }

    /** The function the address register selects, or null for none (reads all ones). */
    private PciFunction selected() {
        boolean enabled = address < 0;
        int reserved = (address >>> 24) & 0x7F;
        int bus = (address >>> 16) & 0xFF;
        int slot = (address >>> 11) & 0x1F;
        int function = (address >>> 8) & 0x7;
        if (!enabled || reserved != 0 || bus != 0 || function != 0) {
            return null;
        }
        return slots[slot];
    }

    private int register() {
        return address & 0xFC;
    }

    @Override
    public int mmioRead(int address, int size) {
        VirtioPci.checkSize(size);
        VirtioPciDevice d = decoding(address, size);
        return d == null ? VirtioPci.mask(size) : d.barRead(address - d.pci().bar0(), size) & VirtioPci.mask(size);
    }

    @Override
    public void mmioWrite(int address, int size, int value) {
        VirtioPci.checkSize(size);
        VirtioPciDevice d = decoding(address, size);
        if (d != null) {
            d.barWrite(address - d.pci().bar0(), size, value);
        }
    }

    /** The device whose BAR0 window, as programmed now, holds all of [address, address + size). */
    private VirtioPciDevice decoding(int address, int size) {
        long a = address & 0xFFFFFFFFL;
        for (VirtioPciDevice d : devices) {
            long base = d.pci().bar0() & 0xFFFFFFFFL;
            if (a >= base && a + size <= base + d.barSize()) {
                return d;
            }
        }
        return null;
    }
}
