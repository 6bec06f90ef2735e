package org.lguest.launcher.impl.virtio;

/**
 * What the guest's {@code in}/{@code out} instructions and its loads and
 * stores above RAM reach: the machine's I/O port space and the MMIO windows
 * of its devices. Linux 4.9's lguest guest finds its devices through PCI
 * configuration mechanism #1 on ports 0xCF8/0xCFC, and then talks to each
 * one through MMIO in the window its BAR0 names; the 4.x Launcher emulated
 * both after the guest trapped (#GP for ports, a page fault for MMIO), and
 * the hypervisor does the same through this interface.
 *
 * <p>Sizes are 1, 2 or 4 bytes; values are little-endian, as the CPU moves
 * them; addresses are guest-physical, 32-bit, unsigned. Reads return the
 * value in the low {@code size} bytes. All calls come from the guest's
 * thread. Any of them may throw {@link org.lguest.mmu.GuestViolationException}
 * when the access is one the guest must not make (a bad ring, a bad PCI-cfg
 * access window): the hypervisor ends the guest with its reason.
 */
public interface IoSpace {

    /** An {@code in} of {@code size} bytes from {@code port}. */
    int portIn(int port, int size);

    /** An {@code out} of the low {@code size} bytes of {@code value} to {@code port}. */
    void portOut(int port, int size, int value);

    /** A load of {@code size} bytes at {@code address}, for which {@link #isMmio} is true. */
    int mmioRead(int address, int size);

    /** A store of the low {@code size} bytes of {@code value} at {@code address}, for which {@link #isMmio} is true. */
    void mmioWrite(int address, int size, int value);

    /** Whether {@code address} lies in the device windows rather than in RAM (or nowhere). */
    boolean isMmio(int address);
}
