package org.lguest.lg;

/**
 * The two guest ABIs this host speaks, chosen per guest at INITIALIZE. The
 * Launcher reads which one a kernel speaks from the kernel image itself.
 */
public enum GuestAbi {
    /**
     * lguest's DMA-era ABI of Linux 2.6.23 ({@link org.lguest.lg.abi}):
     * hypercall arguments in EDX, EBX, ECX; the Launcher builds the initial
     * page tables; devices are DMA keys and the device page.
     */
    LGUEST_2_6_23,
    /**
     * lguest's virtio-era ABI as Linux 4.x uses it ({@link org.lguest.lg.abi.v4}):
     * arguments in EBX, ECX, EDX, ESI; linear paging until the first
     * NEW_PGTABLE; devices are virtio PCI functions reached through port
     * and memory-mapped I/O, which the run loop hands to the Launcher.
     */
    LGUEST_4_X
}
