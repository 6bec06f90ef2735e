package org.lguest.cpu.impl.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.X86Cpu;
import org.lguest.cpu.impl.decode.Insn;

/**
 * What a region holds: the code its entry reaches, taken in tiers (its own
 * function, then the functions it calls, then the callers its returns went
 * back to), and, when that is too much for one JVM method, the part reached
 * first, whatever its address.
 */
class RegionPlanTest {
    /*
     * 0x000 caller:  call 0x100 ; nop ; hlt
     * 0x100 entry:   call 0x200 ; dec ecx ; jnz 0x100 ; ret   (the ret was seen going back to 0x005)
     * 0x200 callee:  inc eax ; ret
     */
    private static byte[] page() {
        byte[] p = new byte[4096];
        put(p, 0x000, 0xE8, 0xFB, 0x00, 0x00, 0x00, 0x90, 0xF4);
        put(p, 0x100, 0xE8, 0xFB, 0x00, 0x00, 0x00, 0x49, 0x75, 0xF8, 0xC3);
        put(p, 0x200, 0x40, 0xC3);
        return p;
    }

    private static void put(byte[] p, int at, int... bytes) {
        for (int i = 0; i < bytes.length; i++) p[at + i] = (byte) bytes[i];
    }

    private static X86Cpu cpu() {
        byte[][] frames = new byte[16][4096];
        return new X86Cpu(new PhysicalMemory() {
            @Override
            public int frameCount() {
                return frames.length;
            }

            @Override
            public byte[] frame(int pfn) {
                return frames[pfn];
            }
        }, new IoPorts() {
            @Override
            public int in(int port, int size) {
                return 0xFF;
            }

            @Override
            public void out(int port, int size, int value) {
            }
        });
    }

    private static RegionCompiler.Plan planFromTheEntry() {
        X86Cpu cpu = cpu();
        byte[] page = page();
        Insn[] code = new Insn[4096];
        code[0x108] = cpu.decodeAt(page, 0x108);
        code[0x108].noteTarget(0x005);
        return RegionCompiler.plan(cpu, page, code, 0x100, RegionCompiler.MAX_INSNS, false);
    }

    /** The plan's offsets in the order it reached them. */
    private static int[] inReachOrder(RegionCompiler.Plan p) {
        return IntStream.range(0, p.offs().length).boxed()
                .sorted(Comparator.comparingInt(i -> p.reached()[i]))
                .mapToInt(i -> p.offs()[i]).toArray();
    }

    @Test
    void theEntrysOwnFunctionComesFirstThenItsCalleeThenTheCallerItsReturnWentTo() {
        int[] order = inReachOrder(planFromTheEntry());
        assertArrayEquals(new int[] {0x100, 0x105, 0x106, 0x108, 0x200, 0x201, 0x005}, order,
                "reach order " + Arrays.stream(order).mapToObj(Integer::toHexString).toList());
    }

    @Test
    void aCutKeepsTheCodeReachedFirstEvenWhereItLiesFurtherFromTheEntry() {
        // the callee (0x200) is reached before the caller (0x005), though the caller lies nearer the entry
        RegionCompiler.Plan cut = RegionCompiler.cut(planFromTheEntry(), 6);
        assertArrayEquals(new int[] {0x100, 0x105, 0x106, 0x108, 0x200, 0x201}, cut.offs(),
                "kept " + Arrays.stream(cut.offs()).mapToObj(Integer::toHexString).toList());
        assertArrayEquals(new int[] {0x100, 0x105, 0x106, 0x108, 0x200, 0x201}, inReachOrder(cut), "the cut keeps the reach order");
    }

    @Test
    void aCutToTheEntrysOwnCodeDropsTheFunctionItCallsAndTheCallerItReturnsTo() {
        RegionCompiler.Plan cut = RegionCompiler.cut(planFromTheEntry(), 4);
        assertArrayEquals(new int[] {0x100, 0x105, 0x106, 0x108}, cut.offs(),
                "kept " + Arrays.stream(cut.offs()).mapToObj(Integer::toHexString).toList());
    }
}
