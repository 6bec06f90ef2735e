package org.lguest.lg.abi;

/**
 * Byte offsets of {@code struct lguest_data}: the page of shared state a
 * guest names in LHCALL_LGUEST_INIT (1120 bytes, i386 layout).
 */
public final class LguestData {
    /** u32: 512 (EFLAGS.IF) when the guest accepts interrupts, 0 when not. */
    public static final int IRQ_ENABLED = 0;
    /** u32 bitmap: the guest's per-IRQ mask. */
    public static final int BLOCKED_INTERRUPTS = 4;
    /** u32: the faulting address of the last page fault reflected to the guest. */
    public static final int CR2 = 8;
    /** u8[64]: async ring status, see {@link Hypercalls#RING_SLOT_FREE}. */
    public static final int HCALL_STATUS = 12;
    /** 64 entries of four u32: eax, edx, ebx, ecx. */
    public static final int HCALLS = 76;
    public static final int HCALL_ENTRY_SIZE = 16;
    /** u32 written by the host at INIT: bytes at the top of virtual memory the guest must not use. */
    public static final int RESERVE_MEM = 1100;
    /** u16 written by the host at INIT: the guest's slot number. */
    public static final int GUESTID = 1104;
    /** u32 written by the host at INIT: TSC frequency in kHz, or 0 when unknown. */
    public static final int TSC_KHZ = 1108;
    /** u32 written by the guest: start of the EIP range where no interrupt may be injected. */
    public static final int NOIRQ_START = 1112;
    /** u32: end (exclusive) of that range. */
    public static final int NOIRQ_END = 1116;
    public static final int SIZE = 1120;

    /** The value of {@link #IRQ_ENABLED} when interrupts are on. */
    public static final int IRQS_ON = 0x200;
    /** Interrupt lines a guest has. */
    public static final int IRQS = 32;
    /** Reserved at the top of the guest's virtual memory for the Switcher: 4 MiB. */
    public static final int SWITCHER_RESERVE = 4 << 20;

    private LguestData() {
    }
}
