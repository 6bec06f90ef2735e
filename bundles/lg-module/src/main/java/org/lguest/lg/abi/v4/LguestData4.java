package org.lguest.lg.abi.v4;

/** Byte offsets of the 4.x {@code struct lguest_data} (i386, 1388 bytes; no {@code pgdir} field). */
public final class LguestData4 {
    /** u32: 0x200 when the guest takes interrupts, 0 when not (its cli/sti write here). */
    public static final int IRQ_ENABLED = 0;
    /** u32 bitmap of blocked IRQs. */
    public static final int BLOCKED_INTERRUPTS = 4;
    /** u32 the host writes before it reflects a page fault: the guest reads CR2 here. */
    public static final int CR2 = 8;
    /** struct timespec (tv_sec, tv_nsec): written by the host at INIT and at every interrupt it delivers. */
    public static final int TIME = 12;
    /** u32: the host sets 0x200 when it holds an interrupt the guest has disabled. */
    public static final int IRQ_PENDING = 20;
    /** u8[64]: async ring status (0xFF free, 0 pending). */
    public static final int HCALL_STATUS = 24;
    /** 64 entries of five u32: eax (the call), ebx, ecx, edx, esi. */
    public static final int HCALLS = 88;
    public static final int HCALL_ENTRY_SIZE = 20;
    /** u32 written by the host: bytes at the top of virtual memory the guest must leave alone. */
    public static final int RESERVE_MEM = 1368;
    /** u32 written by the host: TSC frequency in kHz, 0 for none. */
    public static final int TSC_KHZ = 1372;
    /** u32 written by the guest: the address of the one {@code iret} in its lguest_iret. */
    public static final int NOIRQ_IRET = 1376;
    /** u32 written by the guest: its PAGE_OFFSET. */
    public static final int KERNEL_ADDRESS = 1380;
    /** u32 written by the guest: its system call vector (0x80). */
    public static final int SYSCALL_VEC = 1384;
    public static final int SIZE = 1388;

    public static final int IRQS_ON = 0x200;

    private LguestData4() {
    }

    /** write_timestamp: {@code now} into {@code time} (tv_sec, tv_nsec) of the lguest_data at {@code lguestData}. */
    public static void writeTime(org.lguest.mmu.GuestMemory memory, int lguestData, java.time.Instant now) {
        memory.writeU32(lguestData + TIME, (int) now.getEpochSecond());
        memory.writeU32(lguestData + TIME + 4, now.getNano());
    }
}
