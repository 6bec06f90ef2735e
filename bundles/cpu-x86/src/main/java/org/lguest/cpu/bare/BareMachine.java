package org.lguest.cpu.bare;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.CpuFactory;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;

/**
 * A bare PC-like machine around one processor: RAM, COM1 and QEMU's
 * isa-debug-exit. It boots multiboot (v1) ELF kernels the way
 * {@code qemu-system-i386 -kernel} does.
 *
 * <p>Command line: {@code BareMachine [--mem MiB] KERNEL [command line words...]}.
 * Serial output (COM1 data port 0x3F8) goes to stdout; a write of v to port
 * 0xF4 ends the run with exit status {@code (v << 1) | 1} (always odd); a triple
 * fault prints a message on stderr and exits with status 4; HLT with nothing to
 * wake the processor exits with status 0 (no interrupt sources exist); bad
 * arguments or a kernel that cannot be loaded exit with status 2.
 *
 * <p>Programmatic use (needs only the JDK and this jar):
 * <pre>
 *   BareMachine m = new BareMachine(128);          // MiB of RAM
 *   m.load(Path.of("kernel.elf"), "scale=0");       // multiboot ELF + command line
 *   int status = m.run(System.out, 1_000_000_000L); // serial output, instruction budget
 * </pre>
 * {@link #run} returns the exit status as above, {@link #TRIPLE_FAULT} (4),
 * {@link #HALTED} (0), or {@link #BUDGET_EXHAUSTED} (-1) when the budget ran out.
 * {@link #cpu()} gives the processor for inspection. The processor comes from
 * a {@link CpuFactory}: the one passed to {@link #BareMachine(CpuFactory, int)},
 * or, for {@link #BareMachine(int)} and {@code main}, a new one found with
 * {@link ServiceLoader} (this jar names its own in
 * {@code META-INF/services/org.lguest.cpu.CpuFactory}).
 *
 * <p>Boot state: PT_LOAD segments at their physical addresses; the multiboot
 * information structure at 0x9000 (mem_lower/mem_upper, command line and a
 * memory map); EAX = 0x2BADB002, EBX = its address; flat ring-0 code and data
 * segments (selectors 0x08 and 0x10), paging off, interrupts off.
 */
public final class BareMachine {
    public static final int HALTED = 0, TRIPLE_FAULT = 4, BUDGET_EXHAUSTED = -1;
    static final int INFO = 0x9000;

    private final int memMiB;
    private final Ram ram;
    private final Ports ports = new Ports();
    private final Cpu cpu;

    /** A machine with {@code memMiB} MiB of RAM and a processor made by {@code cpus}. */
    public BareMachine(CpuFactory cpus, int memMiB) {
        if (memMiB < 2 || memMiB > 3072) throw new IllegalArgumentException("memory must be 2..3072 MiB");
        this.memMiB = memMiB;
        this.ram = new Ram(memMiB * 256);
        this.cpu = cpus.create(ram, ports);
    }

    /** A machine with {@code memMiB} MiB of RAM and a processor from {@link #serviceFactory()}. */
    public BareMachine(int memMiB) {
        this(serviceFactory(), memMiB);
    }

    /**
     * A new CPU service found with {@link ServiceLoader} on the class path this
     * class came from (outside OSGi, where no service registry hands one out).
     * Each call makes a new factory, so machines made this way share no
     * compiled code.
     */
    public static CpuFactory serviceFactory() {
        return ServiceLoader.load(CpuFactory.class, BareMachine.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "no " + CpuFactory.class.getName() + " provider on the class path (META-INF/services)"));
    }

    public Cpu cpu() {
        return cpu;
    }

    /** Loads a multiboot ELF32 kernel and prepares the boot state. */
    public void load(Path kernel, String cmdline) throws IOException {
        byte[] img = Files.readAllBytes(kernel);
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        if (img.length < 52 || b.getInt(0) != 0x464C457F || img[4] != 1) {
            throw new IOException(kernel + ": not an ELF32 file");
        }
        boolean mb = false;
        for (int i = 0; i + 12 <= Math.min(img.length, 8192); i += 4) {
            if (b.getInt(i) == 0x1BADB002 && b.getInt(i) + b.getInt(i + 4) + b.getInt(i + 8) == 0) {
                mb = true;
                break;
            }
        }
        if (!mb) throw new IOException(kernel + ": no multiboot header in the first 8 KiB");
        int entry = b.getInt(24);
        int phoff = b.getInt(28);
        int phentsize = b.getShort(42) & 0xFFFF, phnum = b.getShort(44) & 0xFFFF;
        for (int i = 0; i < phnum; i++) {
            int p = phoff + i * phentsize;
            if (b.getInt(p) != 1) continue; // PT_LOAD
            int off = b.getInt(p + 4), paddr = b.getInt(p + 12), filesz = b.getInt(p + 16), memsz = b.getInt(p + 20);
            if ((paddr & 0xFFFFFFFFL) + (memsz & 0xFFFFFFFFL) > (long) memMiB << 20) {
                throw new IOException(kernel + ": segment at 0x" + Integer.toHexString(paddr) + " beyond RAM");
            }
            for (int k = 0; k < memsz; k++) ram.write8(paddr + k, k < filesz ? img[off + k] : 0);
        }
        // multiboot information
        String cl = kernel.toString() + (cmdline == null || cmdline.isEmpty() ? "" : " " + cmdline);
        int clAddr = INFO + 0x100, mmapAddr = INFO + 0x800;
        byte[] cb = cl.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int k = 0; k < Math.min(cb.length, 0x6FF); k++) ram.write8(clAddr + k, cb[k]);
        ram.write8(clAddr + Math.min(cb.length, 0x6FF), 0);
        long[][] map = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2},
            {0x100000, ((long) memMiB << 20) - 0x100000, 1}};
        int q = mmapAddr;
        for (long[] e : map) {
            ram.write32(q, 20);
            ram.write32(q + 4, (int) e[0]);
            ram.write32(q + 8, (int) (e[0] >>> 32));
            ram.write32(q + 12, (int) e[1]);
            ram.write32(q + 16, (int) (e[1] >>> 32));
            ram.write32(q + 20, (int) e[2]);
            q += 24;
        }
        ram.write32(INFO, 0x1 | 0x4 | 0x40);
        ram.write32(INFO + 4, 639);
        ram.write32(INFO + 8, memMiB * 1024 - 1024);
        ram.write32(INFO + 16, clAddr);
        ram.write32(INFO + 44, q - mmapAddr);
        ram.write32(INFO + 48, mmapAddr);
        cpu.setReg(Cpu.EAX, 0x2BADB002);
        cpu.setReg(Cpu.EBX, INFO);
        cpu.setEip(entry);
        cpu.setEflags(2);
        cpu.setSegment(Cpu.CS, 0x08, 0, -1, 0xCF9B00);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) cpu.setSegment(s, 0x10, 0, -1, 0xCF9300);
    }

    /** Runs until isa-debug-exit, a halt, a triple fault or the budget; see the class comment for the result. */
    public int run(OutputStream serial, long maxInstructions) {
        ports.serial = serial;
        ports.exitStatus = Integer.MIN_VALUE;
        ports.cpu = cpu;
        long left = maxInstructions;
        try {
            while (true) {
                long before = cpu.instructionsRetired();
                // the whole budget in one run: a machine without interrupts has nothing to do between
                // slices, and a run that ends while regions nest unwinds every call (and the JIT then
                // recompiles the regions that never saw that path taken)
                CpuExit x = cpu.run(left);
                left -= cpu.instructionsRetired() - before;
                if (ports.exitStatus != Integer.MIN_VALUE) return ports.exitStatus;
                switch (x.reason()) {
                    case HALT:
                        return HALTED;
                    case SHUTDOWN:
                        return TRIPLE_FAULT;
                    case BUDGET:
                        if (left <= 0) return BUDGET_EXHAUSTED;
                        break;
                    default:
                        break;
                }
            }
        } finally {
            try {
                serial.flush();
            } catch (IOException e) {
                // nothing more to do
            }
        }
    }

    /** main's exit status for bad arguments or a kernel that cannot be loaded (missing, unreadable, not a multiboot ELF32). */
    public static final int LOAD_FAILED = 2;

    /** The one line main prints when the kernel cannot be loaded: {@code lguest bare: KERNEL: reason}. */
    static String loadFailure(Path kernel, Exception e) {
        String reason;
        if (e instanceof java.nio.file.NoSuchFileException) {
            reason = "no such file";
        } else if (e instanceof java.nio.file.AccessDeniedException) {
            reason = "permission denied";
        } else if (e instanceof IOException && e.getMessage() != null) {
            reason = e.getMessage();
            String prefix = kernel + ": ";
            if (reason.startsWith(prefix)) reason = reason.substring(prefix.length());
        } else {
            reason = "malformed ELF file (" + e + ")";
        }
        return "lguest bare: " + kernel + ": " + reason;
    }

    public static void main(String[] args) throws IOException {
        int mem = 128;
        int i = 0;
        if (args.length >= 2 && args[0].equals("--mem")) {
            try {
                mem = Integer.parseInt(args[1]);
            } catch (NumberFormatException e) {
                mem = -1;
            }
            if (mem < 2 || mem > 3072) {
                System.err.println("lguest bare: --mem takes MiB from 2 to 3072, not '" + args[1] + "'");
                System.exit(LOAD_FAILED);
            }
            i = 2;
        }
        if (i >= args.length) {
            System.err.println("usage: lguest bare [--mem MiB] KERNEL [kernel command line words...]");
            System.exit(LOAD_FAILED);
        }
        Path kernel = Path.of(args[i]);
        StringBuilder cl = new StringBuilder();
        for (int k = i + 1; k < args.length; k++) {
            if (cl.length() > 0) cl.append(' ');
            cl.append(args[k]);
        }
        BareMachine m = new BareMachine(serviceFactory(), mem);
        try {
            m.load(kernel, cl.toString());
        } catch (IOException | RuntimeException e) {
            System.err.println(loadFailure(kernel, e));
            System.exit(LOAD_FAILED);
        }
        OutputStream out = new LineFlushing(new BufferedOutputStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), 1 << 14));
        int status = m.run(out, Long.MAX_VALUE);
        if (status == TRIPLE_FAULT) {
            PrintStream err = System.err;
            err.printf("BareMachine: triple fault (processor shutdown) at EIP=0x%08x CS=0x%04x after %d instructions%n",
                    m.cpu.eip(), m.cpu.selector(Cpu.CS), m.cpu.instructionsRetired());
        } else if (status == HALTED) {
            System.err.printf("BareMachine: processor halted with nothing to wake it (EIP=0x%08x)%n", m.cpu.eip());
        }
        System.exit(status);
    }

    /** Flushes at each newline. */
    static final class LineFlushing extends OutputStream {
        private final OutputStream out;

        LineFlushing(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            if (b == '\n') out.flush();
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }
    }

    /** RAM in lazily allocated 4 KiB frames. */
    static final class Ram implements PhysicalMemory {
        private final byte[][] frames;

        Ram(int count) {
            frames = new byte[count][];
        }

        @Override
        public int frameCount() {
            return frames.length;
        }

        @Override
        public byte[] frame(int pfn) {
            if (pfn < 0 || pfn >= frames.length) return null;
            byte[] f = frames[pfn];
            if (f == null) frames[pfn] = f = new byte[PAGE_SIZE];
            return f;
        }

        void write8(int pa, int v) {
            frame(pa >>> 12)[pa & 0xFFF] = (byte) v;
        }

        void write32(int pa, int v) {
            for (int k = 0; k < 4; k++) write8(pa + k, v >>> (8 * k));
        }
    }

    /** COM1 (transmit only) and isa-debug-exit. */
    static final class Ports implements IoPorts {
        OutputStream serial;
        volatile int exitStatus = Integer.MIN_VALUE;
        Cpu cpu;
        private final int[] uart = new int[8];

        @Override
        public int in(int port, int size) {
            if (port >= 0x3F8 && port <= 0x3FF && size == 1) {
                switch (port - 0x3F8) {
                    case 5: return 0x60; // transmitter empty
                    case 6: return 0xB0; // DCD, DSR, CTS
                    case 0: return 0;
                    case 2: return 0x01; // no interrupt pending
                    default: return uart[port - 0x3F8];
                }
            }
            return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
        }

        @Override
        public void out(int port, int size, int value) {
            if (port == 0x3F8 && (uart[3] & 0x80) == 0) {
                try {
                    serial.write(value & 0xFF);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            } else if (port > 0x3F8 && port <= 0x3FF) {
                uart[port - 0x3F8] = value & 0xFF;
            } else if (port == 0xF4) {
                exitStatus = ((value & (size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1)) << 1) | 1;
                cpu.requestExit();
            }
        }
    }
}
