package org.lguest.launcher.impl.virtio;

import org.lguest.mmu.GuestViolationException;

/**
 * One virtio device's 256-byte PCI configuration space: the type-0 header,
 * BAR0 with the write-all-ones sizing protocol, and the chain of virtio
 * capabilities that tells the driver where its structures sit in BAR0.
 *
 * <p>The layout is the 4.x Launcher's {@code struct pci_config}, byte for
 * byte, since that is what Linux 4.9's lguest guest was tested against:
 *
 * <pre>
 *   0x00 vendor 0x1AF4, device 0x1040 + type    0x2C subsystem vendor 0x1AF4, subsystem 0x40
 *   0x04 command, status 0x0010 (cap list)      0x34 capabilities pointer 0x40
 *   0x08 revision 1, class per device type      0x3C interrupt line = IRQ, pin 1
 *   0x10 BAR0: 32-bit memory, size a power of 2
 *   0x40 common cap  (16 B) -> BAR0 0..56        next 0x50
 *   0x50 notify cap  (20 B) -> BAR0 56..58       next 0x64, notify_off_multiplier 0
 *   0x64 ISR cap     (16 B) -> BAR0 58           next 0x84
 *   0x74 device cap  (16 B) -> BAR0 60..         next 0 (last in the chain)
 *   0x84 PCI-cfg cap (20 B): bar/offset/length written by the driver, pci_cfg_data at 0x94;
 *        next 0x74 (or 0 for a device without configuration)
 * </pre>
 *
 * The PCI-cfg access capability is a back door into BAR0 through port I/O
 * alone: the driver writes bar, offset and length into the capability, then
 * reads or writes {@code pci_cfg_data}, and the device performs a BAR0
 * access of {@code length} bytes at {@code offset}. Linux's lguest early
 * console ({@code early_put_chars} in arch/x86/lguest/boot.c) writes each
 * character into the console's {@code emerg_wr} this way before any driver
 * binds. A window access that is not an aligned 1-, 2- or 4-byte access inside
 * BAR0 is the guest's error (virtio 1.0 §4.1.4.7.1: the driver MUST NOT make
 * one).
 *
 * <p>Writable: command (I/O, memory, bus master, INTx disable; kept but not
 * acted on, as in the 4.x Launcher, which ignored them altogether), cache line
 * size and latency timer, BAR0, and the PCI-cfg capability's bar, offset,
 * length and data. BARs 1-5 and the expansion ROM do not exist and
 * read 0 (the 4.x Launcher let the guest write them, which made Linux see a
 * 2 KiB ROM at address 0); the interrupt line is the host's and ignores
 * writes. Other writes are ignored.
 */
final class VirtioPciConfig implements PciFunction {

    /** What the PCI-cfg access window reaches: the device's BAR0 register file. */
    interface Bar0 {
        int read(int offset, int size);

        void write(int offset, int size, int value);
    }

    static final int COMMAND = 0x04;
    static final int STATUS = 0x06;
    static final int BAR0 = 0x10;
    static final int CAPABILITIES = 0x34;
    static final int INTERRUPT_LINE = 0x3C;
    static final int INTERRUPT_PIN = 0x3D;
    static final int CAP_COMMON = 0x40;
    static final int CAP_NOTIFY = 0x50;
    static final int CAP_ISR = 0x64;
    static final int CAP_DEVICE = 0x74;
    static final int CAP_PCI_CFG = 0x84;
    /** Offsets inside a virtio_pci_cap. */
    static final int CAP_BAR = 4;
    static final int CAP_OFFSET = 8;
    static final int CAP_LENGTH = 12;
    /** pci_cfg_data, the window of the PCI-cfg access capability. */
    static final int PCI_CFG_DATA = CAP_PCI_CFG + 16;

    private static final int STATUS_CAP_LIST = 0x0010;
    private static final int COMMAND_WRITABLE = 0x0407;

    private final String name;
    private final int barSize;
    private final Bar0 bar;
    private final byte[] space = new byte[256];
    /** Per byte, the bits a plain configuration write may change. */
    private final byte[] writable = new byte[256];

    /**
     * @param name         for messages ("virtio console")
     * @param type         the virtio device type (3 for a console)
     * @param pciClass     class code and subclass, {@code 0xCCSS}
     * @param irq          the interrupt line the host raises for this device
     * @param barSize      BAR0's size, a power of two of at least 16
     * @param deviceConfig bytes of device configuration at BAR0 offset 60 (0: no device capability)
     */
    VirtioPciConfig(String name, int type, int pciClass, int irq, int barSize, int deviceConfig, Bar0 bar) {
        if (Integer.bitCount(barSize) != 1 || barSize < 16) {
            throw new IllegalArgumentException("BAR0 size " + barSize + " is not a power of two of at least 16");
        }
        this.name = name;
        this.barSize = barSize;
        this.bar = bar;
        put16(0x00, VirtioPci.VENDOR);
        put16(0x02, VirtioPci.DEVICE_BASE + type);
        put16(STATUS, STATUS_CAP_LIST);
        space[0x08] = VirtioPci.REVISION;
        space[0x0A] = (byte) pciClass;          // subclass
        space[0x0B] = (byte) (pciClass >>> 8);  // class
        put16(0x2C, VirtioPci.VENDOR);
        put16(0x2E, VirtioPci.SUBSYSTEM_ID);
        space[CAPABILITIES] = (byte) CAP_COMMON;
        space[INTERRUPT_LINE] = (byte) irq;
        space[INTERRUPT_PIN] = 1;

        cap(CAP_COMMON, CAP_NOTIFY, 16, VirtioPci.CAP_COMMON_CFG, 0, VirtioPci.COMMON_LENGTH);
        cap(CAP_NOTIFY, CAP_ISR, 20, VirtioPci.CAP_NOTIFY_CFG, VirtioPci.NOTIFY, VirtioPci.NOTIFY_LENGTH);
        put32(CAP_NOTIFY + 16, 0); // notify_off_multiplier: every queue notifies at the same word
        cap(CAP_ISR, CAP_PCI_CFG, 16, VirtioPci.CAP_ISR_CFG, VirtioPci.ISR, VirtioPci.ISR_LENGTH);
        cap(CAP_PCI_CFG, deviceConfig > 0 ? CAP_DEVICE : 0, 20, VirtioPci.CAP_PCI_CFG, 0, 0);
        if (deviceConfig > 0) {
            cap(CAP_DEVICE, 0, 16, VirtioPci.CAP_DEVICE_CFG, VirtioPci.DEVICE_CONFIG, deviceConfig);
        }

        writable[COMMAND] = (byte) COMMAND_WRITABLE;
        writable[COMMAND + 1] = (byte) (COMMAND_WRITABLE >>> 8);
        writable[0x0C] = (byte) 0xFF; // cache line size
        writable[0x0D] = (byte) 0xFF; // latency timer
        writable[CAP_PCI_CFG + CAP_BAR] = (byte) 0xFF;
        for (int i = 0; i < 8; i++) {
            writable[CAP_PCI_CFG + CAP_OFFSET + i] = (byte) 0xFF; // offset and length
        }
    }

    private void cap(int at, int next, int length, int type, int offset, int bytes) {
        space[at] = VirtioPci.CAP_ID_VENDOR;
        space[at + 1] = (byte) next;
        space[at + 2] = (byte) length;
        space[at + 3] = (byte) type;
        space[at + CAP_BAR] = 0;
        put32(at + CAP_OFFSET, offset);
        put32(at + CAP_LENGTH, bytes);
    }

    /** BAR0 as the guest (or the bus, at assignment) last programmed it: the window's address. */
    int bar0() {
        return get32(BAR0);
    }

    int barSize() {
        return barSize;
    }

    /** The firmware's assignment of BAR0 (before the guest runs). */
    void assignBar0(int address) {
        if ((address & (barSize - 1)) != 0) {
            throw new IllegalArgumentException("BAR0 address " + VirtioPci.hex(address & 0xFFFFFFFFL)
                    + " is not aligned to its size " + barSize);
        }
        put32(BAR0, address);
    }

    int command() {
        return get16(COMMAND);
    }

    @Override
    public int configRead(int offset, int size) {
        if (offset <= PCI_CFG_DATA + 3 && offset + size > PCI_CFG_DATA) {
            int length = checkedWindow("read");
            put32(PCI_CFG_DATA, bar.read(get32(CAP_PCI_CFG + CAP_OFFSET), length) & VirtioPci.mask(length));
        }
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | space[offset + i] & 0xFF;
        }
        return v;
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        if ((offset & ~3) == BAR0) {
            int merged = merge(get32(BAR0), offset & 3, size, value);
            // Bits below the size do not stick: that is how the guest learns it
            // (write all ones, read back ~(size-1)). Bits 3..0 read 0: a 32-bit,
            // non-prefetchable memory BAR.
            put32(BAR0, merged & ~(barSize - 1));
            return;
        }
        if ((offset & ~3) == PCI_CFG_DATA) {
            put32(PCI_CFG_DATA, merge(get32(PCI_CFG_DATA), offset & 3, size, value));
            int length = checkedWindow("write");
            bar.write(get32(CAP_PCI_CFG + CAP_OFFSET), length, get32(PCI_CFG_DATA) & VirtioPci.mask(length));
            return;
        }
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int m = writable[at] & 0xFF;
            space[at] = (byte) ((space[at] & ~m) | ((value >>> (8 * i)) & m));
        }
    }

    /** The window's length, after checking that bar/offset/length name an aligned access inside BAR0. */
    private int checkedWindow(String what) {
        int capBar = space[CAP_PCI_CFG + CAP_BAR] & 0xFF;
        long offset = get32(CAP_PCI_CFG + CAP_OFFSET) & 0xFFFFFFFFL;
        long length = get32(CAP_PCI_CFG + CAP_LENGTH) & 0xFFFFFFFFL;
        String access = "bar " + capBar + ", offset " + offset + ", length " + length;
        if (capBar != 0) {
            throw new GuestViolationException(name + ": PCI-cfg access window " + what + " (" + access
                    + "): the device has only BAR0");
        }
        if (length != 1 && length != 2 && length != 4) {
            throw new GuestViolationException(name + ": PCI-cfg access window " + what + " (" + access
                    + "): the length must be 1, 2 or 4");
        }
        if (offset % length != 0 || offset + length > barSize) {
            throw new GuestViolationException(name + ": PCI-cfg access window " + what + " (" + access
                    + "): not an aligned access inside BAR0 (" + barSize + " bytes)");
        }
        return (int) length;
    }

    private static int merge(int old, int lane, int size, int value) {
        int m = VirtioPci.mask(size) << (8 * lane);
        return (old & ~m) | ((value << (8 * lane)) & m);
    }

    private int get16(int at) {
        return space[at] & 0xFF | (space[at + 1] & 0xFF) << 8;
    }

    private int get32(int at) {
        return get16(at) | get16(at + 2) << 16;
    }

    private void put16(int at, int v) {
        space[at] = (byte) v;
        space[at + 1] = (byte) (v >>> 8);
    }

    private void put32(int at, int v) {
        put16(at, v);
        put16(at + 2, v >>> 16);
    }
}
