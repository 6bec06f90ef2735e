package org.lguest.cpu.impl.compile;

import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.interpret.Fast;

/** A compiled region of one code page (a hidden class made by {@link RegionCompiler}). */
public interface BlockCode {
    /**
     * Runs the region from its entry (EIP in the processor); returns the
     * instructions retired, with EIP set where it left. It leaves on a back
     * edge once {@code budget} instructions have retired, so it retires fewer
     * than budget plus its length.
     */
    int run(Fast c, Insn[] ins, int budget);
}
