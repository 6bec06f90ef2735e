package org.lguest.cpu.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Compares the host's outcome of a case with the Java processor's, leaving
 * out what {@link UndefinedBehaviour} says the architecture does not define,
 * and describes the differences in human terms.
 */
final class Comparison {
    static final String[] REG = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
    static final String[] SEG = {"ES", "CS", "SS", "DS", "FS", "GS"};
    /** The I/D bit of a #PF error code: reported by a host running with NX, absent on an i686 without PAE. */
    static final int PF_INSTRUCTION_FETCH = 0x10;

    private final byte[] pattern;

    private static final int Cpu_CS = 1, Cpu_SS = 2;
    /**
     * A null selector with RPL 1..3 in DS, ES, FS or GS reads back from the host as 0 when the host kernel
     * switched tasks in between (Linux reloads such selectors as 0, e.g. its AMD null-segment workaround):
     * seen twice in 10,000,000 cases under load. Java reporting the loaded RPL then is not a mismatch; in
     * every other case the host reports the RPL and it is compared.
     */
    static final String NULL_SELECTOR_RPL = "host 0 vs java 1..3 in DS/ES/FS/GS";

    Comparison(byte[] pattern) {
        this.pattern = pattern;
    }

    /** The differences, one line each (empty when the outcomes agree). */
    List<String> differences(DiffCase c, Outcome host, Outcome java) {
        List<String> d = new ArrayList<>();
        if (java.vector() < 0 && java.other() != null) {
            d.add("ending: host " + ending(host) + ", java: " + java.other());
            return d;
        }
        if (host.vector() != java.vector()) {
            d.add("ending: host " + ending(host) + ", java " + ending(java));
        } else if (Outcome.hasErrorCode(host.vector())) {
            int mask = host.vector() == 14 ? ~PF_INSTRUCTION_FETCH : ~0;
            if (((host.errorCode() ^ java.errorCode()) & mask) != 0) {
                d.add(String.format("error code: host %#x, java %#x", host.errorCode(), java.errorCode()));
            }
        }
        boolean completed = host.eip() != c.entry();
        boolean faultOrderFree = !completed && (c.faultLeeway() & DiffCase.FAULT_ORDER_UNDEFINED) != 0;
        if (host.vector() == 14 && java.vector() == 14 && host.cr2() != java.cr2() && !faultOrderFree) {
            d.add(String.format("CR2: host %08x, java %08x", host.cr2(), java.cr2()));
        }
        if (host.eip() != java.eip()) {
            d.add(String.format("EIP: host %08x, java %08x", host.eip(), java.eip()));
        }
        int flagMask = UndefinedBehaviour.COMPARED_FLAGS & ~(completed ? c.undefinedFlags() : 0);
        int fd = (host.eflags() ^ java.eflags()) & flagMask;
        if (fd != 0) {
            d.add(String.format("EFLAGS differ in %s: host %08x, java %08x (initial %08x, undefined here: %s)",
                    UndefinedBehaviour.flagNames(fd), host.eflags(), java.eflags(), c.eflags(),
                    c.undefinedFlags() == 0 ? "none" : UndefinedBehaviour.flagNames(c.undefinedFlags())));
        }
        for (int i = 0; i < 8; i++) {
            int mask = completed ? ~c.undefinedRegBits()[i]
                    : (c.faultLeeway() & DiffCase.FAULT_REGS_UNDEFINED) != 0 ? 0 : ~0;
            if (((host.regs()[i] ^ java.regs()[i]) & mask) != 0) {
                d.add(String.format("%s: host %08x, java %08x (initial %08x)", REG[i], host.regs()[i], java.regs()[i],
                        c.regs()[i]));
            }
        }
        for (int s = 0; s < 6; s++) {
            if (s != Cpu_CS && s != Cpu_SS && host.selectors()[s] == 0 && java.selectors()[s] >= 1
                    && java.selectors()[s] <= 3) {
                continue; // see NULL_SELECTOR_RPL
            }
            if (host.selectors()[s] != java.selectors()[s]) {
                d.add(String.format("%s: host %04x, java %04x", SEG[s], host.selectors()[s], java.selectors()[s]));
            }
        }
        if (c.fpu() && host.fpu() != null && java.fpu() != null) {
            fpuDifferences(c, host.fpu(), java.fpu(), d);
        }
        TreeSet<Integer> words = new TreeSet<>(host.memory().keySet());
        words.addAll(java.memory().keySet());
        for (int w : words) {
            int p = patternWord(w);
            int h = host.memory().getOrDefault(w, p);
            int j = java.memory().getOrDefault(w, p);
            int mask = completed ? ~undefinedMemoryMask(c, w) : ~0;
            if (((h ^ j) & mask) != 0) {
                d.add(String.format("memory %08x: host %08x, java %08x (before %08x)", Layout.DATA + 4 * w, h, j,
                        initialWord(c, w)));
            }
        }
        return d;
    }

    private static int u16(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
    }

    /**
     * The FNSAVE images: control, status and tag words, and the registers that are not empty. The
     * instruction and data pointers (bytes 12..27) are not compared.
     */
    static void fpuDifferences(DiffCase c, byte[] h, byte[] j, List<String> d) {
        if (u16(h, 0) != u16(j, 0)) {
            d.add(String.format("x87 control word: host %04x, java %04x", u16(h, 0), u16(j, 0)));
        }
        int swMask = ~c.fpuStatusUndefined() & 0xffff;
        String m = c.form() == null ? "" : c.form().mnemonic();
        if ((m.startsWith("FDIV") || m.startsWith("FIDIV")) && (u16(h, 4) & X87Values.ZE) != 0) {
            swMask &= ~X87Values.DE; // see X87Values#DE
        }
        if (((u16(h, 4) ^ u16(j, 4)) & swMask) != 0) {
            d.add(String.format("x87 status word: host %04x, java %04x (compared bits %04x)", u16(h, 4), u16(j, 4),
                    swMask));
        }
        int tw = u16(h, 8);
        if (tw != u16(j, 8)) {
            d.add(String.format("x87 tag word: host %04x, java %04x", tw, u16(j, 8)));
        }
        int top = u16(h, 4) >> 11 & 7;
        for (int i = 0; i < 8; i++) {
            int phys = (top + i) & 7;
            if ((tw >> (2 * phys) & 3) == 3 && (u16(j, 8) >> (2 * phys) & 3) == 3) {
                continue;
            }
            boolean same = true;
            for (int k = 0; k < 10; k++) {
                same &= h[28 + 10 * i + k] == j[28 + 10 * i + k];
            }
            if (!same) {
                d.add(String.format("x87 ST(%d): host %s, java %s", i, ext(h, 28 + 10 * i), ext(j, 28 + 10 * i)));
            }
        }
    }

    private static String ext(byte[] b, int o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%04x:", u16(b, o + 8)));
        for (int k = 7; k >= 0; k--) {
            sb.append(String.format("%02x", b[o + k] & 0xff));
        }
        return sb.toString();
    }

    static String ending(Outcome o) {
        if (o.vector() < 0) {
            return o.other();
        }
        String s = Outcome.vectorName(o.vector());
        if (Outcome.hasErrorCode(o.vector())) {
            s += String.format("(%#x)", o.errorCode());
        }
        if (o.vector() == 14) {
            s += String.format(" at %08x", o.cr2());
        }
        return s + String.format(" with EIP %08x", o.eip());
    }

    private int patternWord(int w) {
        int o = 4 * w;
        return (pattern[o] & 0xff) | (pattern[o + 1] & 0xff) << 8 | (pattern[o + 2] & 0xff) << 16
                | (pattern[o + 3] & 0xff) << 24;
    }

    private int initialWord(DiffCase c, int w) {
        return initialWord(pattern, c, w);
    }

    /** Data-area dword {@code w} as the case starts: the pattern with the case's patches on it. */
    static int initialWord(byte[] pattern, DiffCase c, int w) {
        byte[] b = new byte[4];
        System.arraycopy(pattern, 4 * w, b, 0, 4);
        for (DiffCase.Patch p : c.patches()) {
            for (int i = 0; i < p.bytes().length; i++) {
                int o = p.offset() + i - 4 * w;
                if (o >= 0 && o < 4) {
                    b[o] = p.bytes()[i];
                }
            }
        }
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    private static int undefinedMemoryMask(DiffCase c, int w) {
        int mask = 0;
        int[] u = c.undefinedMemory();
        for (int i = 0; i < u.length; i += 2) {
            for (int k = 0; k < u[i + 1]; k++) {
                int o = u[i] + k - 4 * w;
                if (o >= 0 && o < 4) {
                    mask |= 0xff << (8 * o);
                }
            }
        }
        return mask;
    }

    /** A case with its initial state, for a mismatch report. */
    static String describeCase(DiffCase c) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("case %d: %s%n    bytes %s at %08x%n    initial", c.index(), c.description(),
                c.bytesHex(), c.entry()));
        for (int i = 0; i < 8; i++) {
            sb.append(String.format(" %s=%08x", REG[i], c.regs()[i]));
        }
        sb.append(String.format(" EFLAGS=%08x", c.eflags()));
        if (!c.patches().isEmpty()) {
            sb.append(System.lineSeparator()).append("    memory set:");
            for (DiffCase.Patch p : c.patches()) {
                sb.append(String.format(" %08x:", Layout.DATA + p.offset()));
                for (byte b : p.bytes()) {
                    sb.append(String.format("%02x", b & 0xff));
                }
            }
        }
        return sb.toString();
    }
}
