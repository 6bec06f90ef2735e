package org.lguest.launcher.impl.virtio;

/**
 * The dummy host bridge at 00:00.0. Linux expects one: its
 * {@code pci_sanity_check} (arch/x86/pci/direct.c) accepts configuration
 * mechanism #1 only when some function on bus 0 has class "host bridge"
 * (06/00) or an Intel/Compaq vendor id. The 4.x Launcher's
 * {@code init_pci_host_bridge} set the class and nothing else, so vendor and
 * device read 0x0000: Linux's bus scan then treats the slot as empty (a
 * vendor/device dword of 0 means "no device"), and no host-bridge quirk runs
 * against it. We do the same, because that is what the guest was tested
 * against. Every other register reads 0; writes are ignored.
 */
final class HostBridge implements PciFunction {
    static final int VENDOR = 0x0000;
    static final int DEVICE = 0x0000;
    /** Class 06 (bridge), subclass 00 (host bridge), prog-if 0, revision 0: the dword at 0x08. */
    private static final int CLASS_DWORD = 0x0600_0000;

    @Override
    public int configRead(int offset, int size) {
        int dword = switch (offset & ~3) {
            case 0x00 -> VENDOR | DEVICE << 16;
            case 0x08 -> CLASS_DWORD;
            default -> 0;
        };
        return (dword >>> (8 * (offset & 3))) & VirtioPci.mask(size);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
    }
}
