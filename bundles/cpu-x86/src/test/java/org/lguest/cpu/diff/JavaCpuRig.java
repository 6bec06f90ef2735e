package org.lguest.cpu.diff;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.CpuFactory;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;

/**
 * The Java processor set up the way Linux sets up the host processor for a
 * 32-bit process: paging on, a flat user code and data segment at the
 * host's own selectors (CPL 3), IOPL 0, CR0.AM set, and an IDT whose gates
 * (DPL 3 for INT3, INTO and INT 0x80, DPL 0 for the rest) lead into a host
 * region, so every exception comes back from {@link Cpu#run(long)} as
 * {@link CpuExit.Reason#HOST_VECTOR}.
 *
 * <p>Only the code page (read-only) and the data area are mapped for the
 * user; the system tables live at 0xFFC00000 in supervisor pages.
 */
final class JavaCpuRig {
    static final int SYSTEM = 0xffc0_0000;
    static final int GDT = SYSTEM;
    static final int TSS = SYSTEM + 0x800;
    static final int IDT = SYSTEM + 0x1000;
    static final int KSTACK_TOP = SYSTEM + 0x3000;
    static final int HOST_REGION = 0xffe0_0000;
    static final int KERNEL_CS = 0x08;
    static final int KERNEL_DS = 0x18;
    static final int TSS_SEL = 0x40;
    /** Instructions one case may run: the instruction, the INT3, and room for REP iterations if counted. */
    static final long BUDGET = 10_000;

    private static final int PD = 0, PT_CODE = 1, PT_DATA = 2, PT_SYS = 3, CODE_FRAME = 4, DATA_FRAME = 5,
            GDT_FRAME = 7, IDT_FRAME = 8, STACK_FRAME = 9, FRAMES = 16;

    /** The state FNINIT leaves, in FNSAVE layout: CW 0x037F, SW 0, all tags empty. */
    static final byte[] FNINIT_IMAGE = new byte[108];

    static {
        FNINIT_IMAGE[0] = 0x7f;
        FNINIT_IMAGE[1] = 0x03;
        FNINIT_IMAGE[8] = (byte) 0xff;
        FNINIT_IMAGE[9] = (byte) 0xff;
    }

    private final Supplier<CpuFactory> factory;
    private final OracleCpu.Header host;
    private final byte[] pattern;
    private final byte[][] frames = new byte[FRAMES][];
    private final PhysicalMemory memory;
    private Cpu cpu;
    private int lastCodeOffset;
    private int lastCodeLength;

    JavaCpuRig(Supplier<CpuFactory> factory, OracleCpu.Header host, byte[] pattern) {
        this.factory = factory;
        this.host = host;
        this.pattern = pattern.clone();
        for (int i = 0; i < FRAMES; i++) {
            frames[i] = new byte[PhysicalMemory.PAGE_SIZE];
        }
        memory = new PhysicalMemory() {
            @Override
            public int frameCount() {
                return FRAMES;
            }

            @Override
            public byte[] frame(int pfn) {
                return pfn >= 0 && pfn < FRAMES ? frames[pfn] : null;
            }
        };
        buildTables();
        cpu = newCpu();
    }

    private static void put32(byte[] f, int off, int v) {
        f[off] = (byte) v;
        f[off + 1] = (byte) (v >>> 8);
        f[off + 2] = (byte) (v >>> 16);
        f[off + 3] = (byte) (v >>> 24);
    }

    private static int pte(int frame, int flags) {
        return frame << 12 | flags;
    }

    private void buildTables() {
        // Page directory and tables.
        put32(frames[PD], (Layout.CODE >>> 22) * 4, pte(PT_CODE, 0x7));
        put32(frames[PD], (Layout.DATA >>> 22) * 4, pte(PT_DATA, 0x7));
        put32(frames[PD], (SYSTEM >>> 22) * 4, pte(PT_SYS, 0x3));
        put32(frames[PT_CODE], (Layout.CODE >>> 12 & 0x3ff) * 4, pte(CODE_FRAME, 0x5)); // user, read-only
        for (int i = 0; i < Layout.DATA_SIZE / 4096; i++) {
            put32(frames[PT_DATA], ((Layout.DATA >>> 12) + i & 0x3ff) * 4, pte(DATA_FRAME + i, 0x7));
        }
        put32(frames[PT_SYS], 0, pte(GDT_FRAME, 0x3));
        put32(frames[PT_SYS], 4, pte(IDT_FRAME, 0x3));
        put32(frames[PT_SYS], 8, pte(STACK_FRAME, 0x3));

        // GDT: kernel code and data, the user segments at the host's selectors, a TSS.
        byte[] g = frames[GDT_FRAME];
        descriptor(g, KERNEL_CS, 0x0000ffff, 0x00cf9b00);
        descriptor(g, KERNEL_DS, 0x0000ffff, 0x00cf9300);
        descriptor(g, host.userCs(), 0x0000ffff, userHigh(host.larCs(), 0x00cffb00));
        descriptor(g, host.userDs(), 0x0000ffff, userHigh(host.larDs(), 0x00cff300));
        descriptor(g, TSS_SEL, (TSS & 0xffff) << 16 | 0x67, (TSS & 0xff000000) | (TSS >>> 16 & 0xff) | 0x8b00);
        put32(g, 0x800 + 4, KSTACK_TOP);      // TSS.ESP0
        put32(g, 0x800 + 8, KERNEL_DS);       // TSS.SS0
        put32(g, 0x800 + 0x64, 0x68 << 16);   // I/O map base beyond the limit: no I/O bitmap

        // IDT: every vector through a 32-bit interrupt gate into the host region.
        byte[] idt = frames[IDT_FRAME];
        for (int v = 0; v < 256; v++) {
            int off = HOST_REGION + v * 16;
            int dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
            put32(idt, v * 8, KERNEL_CS << 16 | (off & 0xffff));
            put32(idt, v * 8 + 4, (off & 0xffff0000) | 0x8e00 | dpl << 13);
        }
        System.arraycopy(pattern, 0, frames[DATA_FRAME], 0, 4096);
        System.arraycopy(pattern, 4096, frames[DATA_FRAME + 1], 0, 4096);
        Arrays.fill(frames[CODE_FRAME], Layout.INT3);
    }

    private static int userHigh(int lar, int fallback) {
        return (lar == -1 ? fallback : lar & 0x00f0ff00) | 0x000f0000;
    }

    private static void descriptor(byte[] gdt, int selector, int low, int high) {
        put32(gdt, selector & ~7, low);
        put32(gdt, (selector & ~7) + 4, high);
    }

    private int gdtLimit() {
        return ((host.userDs() >> 3) >= 16 ? 32 : 16) * 8 - 1;
    }

    private Cpu newCpu() {
        IoPorts ports = new IoPorts() {
            @Override
            public int in(int port, int size) {
                throw new AssertionError("IN reached the port space at CPL 3 with IOPL 0 (port " + port + ")");
            }

            @Override
            public void out(int port, int size, int value) {
                throw new AssertionError("OUT reached the port space at CPL 3 with IOPL 0 (port " + port + ")");
            }
        };
        Cpu c = factory.get().create(memory, ports);
        c.setGdt(GDT, gdtLimit());
        c.setIdt(IDT, 256 * 8 - 1);
        c.setLdt(0, 0, 0);
        c.setTaskRegister(TSS_SEL, TSS, 0x67, 0x00008b00);
        c.setCr(3, PD << 12);
        c.setCr(4, 0);
        c.setCr(0, 0x8005_0033); // PG AM WP NE ET MP PE, as Linux runs
        c.setHostRegion(HOST_REGION, HOST_REGION + 0x1000);
        loadUserSegments(c);
        return c;
    }

    private void loadUserSegments(Cpu c) {
        check(c.loadSegment(Cpu.CS, host.userCs()), "CS");
        check(c.loadSegment(Cpu.SS, host.userDs()), "SS");
        check(c.loadSegment(Cpu.DS, host.userDs()), "DS");
        check(c.loadSegment(Cpu.ES, host.userDs()), "ES");
        check(c.loadSegment(Cpu.FS, host.selectors()[4]), "FS");
        check(c.loadSegment(Cpu.GS, host.selectors()[5]), "GS");
    }

    private static void check(int r, String what) {
        if (r != -1) {
            throw new IllegalStateException("the Java CPU refused to load the user " + what + " (vector " + r + ")");
        }
    }

    /** Runs one case from a clean state and reports how it ended. */
    Outcome run(DiffCase c) {
        byte[] code = frames[CODE_FRAME];
        Arrays.fill(code, lastCodeOffset, lastCodeOffset + lastCodeLength, Layout.INT3);
        int keep = Math.min(c.code().length, Layout.CODE_SIZE - c.codeOffset());
        System.arraycopy(c.code(), 0, code, c.codeOffset(), keep);
        cpu.physicalWritten((long) CODE_FRAME << 12 | lastCodeOffset, lastCodeLength);
        cpu.physicalWritten((long) CODE_FRAME << 12 | c.codeOffset(), keep);
        lastCodeOffset = c.codeOffset();
        lastCodeLength = keep;
        for (DiffCase.Patch p : c.patches()) {
            for (int i = 0; i < p.bytes().length; i++) {
                int o = p.offset() + i;
                frames[DATA_FRAME + (o >> 12)][o & 0xfff] = p.bytes()[i];
            }
            cpu.physicalWritten(((long) DATA_FRAME << 12) + p.offset(), p.bytes().length);
        }
        Outcome result;
        try {
            result = execute(c);
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            result = new Outcome(-1, 0, 0, 0, 0, new int[8], new int[6], dataChanges(),
                    "the emulator threw " + e, null);
            cpu = newCpu();
        }
        restoreData();
        return result;
    }

    private Outcome execute(DiffCase c) {
        int[] defaults = {host.userDs(), host.userCs(), host.userDs(), host.userDs(), host.selectors()[4],
            host.selectors()[5]};
        for (int s = 0; s < 6; s++) {
            if (cpu.selector(s) != defaults[s] || cpu.cpl() != 3) {
                loadUserSegments(cpu);
                break;
            }
        }
        for (int i = 0; i < 8; i++) {
            cpu.setReg(i, c.regs()[i]);
        }
        cpu.setEflags((c.eflags() & 0x0025_0fd5) | 0x202);
        cpu.setCr(2, 0);
        if (c.fpu()) {
            cpu.restoreFpu(FNINIT_IMAGE);
        }
        cpu.setEip(c.entry());
        CpuExit exit = cpu.run(BUDGET);
        int vector = exit.reason() == CpuExit.Reason.HOST_VECTOR ? exit.vector() : -1;
        int[] regs = new int[8];
        for (int i = 0; i < 8; i++) {
            regs[i] = cpu.reg(i);
        }
        int[] sel = new int[6];
        for (int s = 0; s < 6; s++) {
            sel[s] = cpu.selector(s);
        }
        byte[] fpu = null;
        if (c.fpu()) {
            fpu = new byte[108];
            cpu.saveFpu(fpu);
        }
        return new Outcome(vector, exit.errorCode(), cpu.cr(2), cpu.eip(), cpu.eflags(), regs, sel, dataChanges(),
                vector < 0 ? "run ended with " + exit.reason() : null, fpu);
    }

    private Map<Integer, Integer> dataChanges() {
        Map<Integer, Integer> m = null;
        for (int f = 0; f < 2; f++) {
            byte[] frame = frames[DATA_FRAME + f];
            int base = f * 4096;
            int from = 0;
            while (true) {
                int d = Arrays.mismatch(frame, from, 4096, pattern, base + from, base + 4096);
                if (d < 0) {
                    break;
                }
                int w = (from + d) & ~3;
                if (m == null) {
                    m = new HashMap<>();
                }
                m.put((base + w) >> 2, (frame[w] & 0xff) | (frame[w + 1] & 0xff) << 8 | (frame[w + 2] & 0xff) << 16
                        | (frame[w + 3] & 0xff) << 24);
                from = w + 4;
                if (from >= 4096) {
                    break;
                }
            }
        }
        return m == null ? Map.of() : m;
    }

    private void restoreData() {
        for (int f = 0; f < 2; f++) {
            byte[] frame = frames[DATA_FRAME + f];
            int base = f * 4096;
            int d = Arrays.mismatch(frame, 0, 4096, pattern, base, base + 4096);
            if (d >= 0) {
                int last = 4096;
                while (last > d && frame[last - 1] == pattern[base + last - 1]) {
                    last--;
                }
                System.arraycopy(pattern, base + d, frame, d, last - d);
                cpu.physicalWritten(((long) (DATA_FRAME + f) << 12) + d, last - d);
            }
        }
    }
}
