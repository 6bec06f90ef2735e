package org.lguest.cpu.impl.x87;

/**
 * What the x87 unit needs from the integer core, and nothing more.
 *
 * <p>Memory operands are named by segment register (Cpu.ES..Cpu.GS) and
 * offset, exactly as the core computed them from the ModRM byte. The memory
 * methods apply segment and paging checks and raise the core's faults the
 * way the core does for its own accesses (they may not return). The x87 unit
 * therefore reads every memory operand before it changes any of its own
 * state, and calls {@link #checkWritable} before a store made of several
 * writes, so a faulting instruction leaves memory and FPU state untouched.
 */
public interface FpuHost {
    int readByte(int seg, int offset);

    int readWord(int seg, int offset);

    int readDword(int seg, int offset);

    void writeByte(int seg, int offset, int value);

    void writeWord(int seg, int offset, int value);

    void writeDword(int seg, int offset, int value);

    /** Raises the fault a write of {@code length} bytes at seg:offset would raise, if any. */
    void checkWritable(int seg, int offset, int length);

    /**
     * Raises the fault a read of {@code length} bytes at seg:offset would raise, checking the first dword
     * and then the last byte: FRSTOR on the host reports CR2 = the image's last byte when the image runs
     * into a not-present page after its first dword, the page start when its first dword straddles it.
     */
    default void checkReadableEnds(int seg, int offset, int length) {
    }

    /** AX, for FNSTSW AX. */
    void setAx(int value);

    /** The current EFLAGS, with lazily kept flags computed (FCMOVcc reads CF, ZF, PF). */
    int eflags();

    /** FCOMI/FUCOMI: sets ZF, PF and CF from the bits of {@code zpc} at their EFLAGS positions, clears OF, SF, AF. */
    void setCompareFlags(int zpc);

    /** EIP of the instruction being executed (for the FPU instruction pointer). */
    int instructionEip();

    /** CS selector of the instruction being executed. */
    int codeSelector();

    /** The selector of segment register {@code seg} (for the FPU data pointer). */
    int selector(int seg);
}
