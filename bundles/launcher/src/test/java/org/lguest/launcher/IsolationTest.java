package org.lguest.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.impl.DmaRouterImpl;
import org.lguest.lg.impl.LguestControlComponent;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * Isolation: each hostile kernel of guest/hostile/ (see its README.md) runs
 * beside the well-behaved guest kernel ({@code selftest poweroff}) on the real
 * hypervisor without OSGi (the CPU, MMU, Switcher and lg module
 * implementations instantiated directly, the Launcher over them). Each test
 * asserts three things:
 * <ol>
 * <li>the hostile guest ends the way guest/hostile/README.md documents: killed
 *     by the host with the ABI's reason, or "contained" (it survived, the
 *     attack had no effect, and it said so with CRASH "hostile: contained:
 *     ..."); never with "hostile: ESCAPE: ...";</li>
 * <li>the good guest prints every PASS line and powers off within a bound;</li>
 * <li>nothing throws out of the host: no uncaught exception on any thread, no
 *     "Launcher: java..." / "host error" death.</li>
 * </ol>
 * Several variants of one attack run at once (at most 16 guests in all). The good guest first
 * runs once alone (its time bounds its pace beside the flooding and spinning guests); if it fails
 * even alone, each test still asserts everything about the hostile guests and the host, then
 * skips (an assumption) the good-guest half, naming why. guest/hostile/README.md lists every
 * attack, its expected outcome and the ABI rule behind it.
 */
class IsolationTest {
    static final Path GUEST_KERNEL = Path.of(System.getProperty("lguest.guest.kernel",
            "../../guest/target/lguest-guest.elf"));
    static final List<String> SELFTESTS = List.of("paging-demand", "paging-batch", "user-syscall", "user-tls",
            "user-stack-demand", "user-timer", "user-kernel-protected", "timer-ticks", "halt-wake");
    /** The good guest's bound, when nothing else is measured (the CPU is an interpreter). */
    static final int GOOD_SECONDS = 180;
    /** How long a hostile kernel may take to die once started. */
    static final int HOSTILE_SECONDS = 90;
    static final long HOSTILE_MEMORY = 16L << 20;

    TrackingMmu mmu;
    LguestControlComponent control;
    LauncherCore launcher;
    RecordingDriver consoles;
    final List<String> uncaught = Collections.synchronizedList(new ArrayList<>());
    Thread.UncaughtExceptionHandler previousHandler;

    @BeforeEach
    void setUp() {
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
        mmu = new TrackingMmu();
        DmaRouterImpl router = new DmaRouterImpl();
        control = new LguestControlComponent(mmu, new SwitcherComponent(new CpuFactoryImpl()),
                new org.lguest.lg.impl.ParavirtOpsImpl(router),
                new org.lguest.lg.impl.Paravirt4(), router);
        launcher = new LauncherCore(() -> mmu, () -> control);
        consoles = new RecordingDriver();
        launcher.addDriver("console", consoles, 0);
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
        control.deactivate();
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
    }

    // ---- the attacks -------------------------------------------------------------------------

    /** Hypercalls the fuzz makes in all (CI size); {@code -Dlguest.fuzz.hypercalls=N} for more. */
    static final long FUZZ_CALLS = Long.getLong("lguest.fuzz.hypercalls", 100_000);

    @Test
    @Timeout(900)
    void randomHypercallsFromASeedEndEachGuestWithAReasonAndTheGoodGuestNeverNotices() throws Exception {
        long base = Long.getLong("lguest.fuzz.seed", System.nanoTime() % 1_000_000_000L);
        System.out.println("IsolationTest: hypercall fuzz from seed " + base + " (-Dlguest.fuzz.seed=" + base
                + " repeats it), " + FUZZ_CALLS + " calls");
        probeGoodGuest();
        Guest good = goodBrokenAlone != null ? null : start("good", GUEST_KERNEL, "selftest poweroff", 64L << 20);
        long calls = 0;
        int guests = 0;
        Map<String, Integer> outcomes = new java.util.TreeMap<>();
        long t0 = System.nanoTime();
        for (long seed = base; calls < FUZZ_CALLS; seed++) {
            Guest g = start("fuzz-" + seed, hostileKernel("fuzz"), "seed=" + seed + " count=20000", HOSTILE_MEMORY);
            Guest.End end = await(g, HOSTILE_SECONDS, "hostile fuzz seed " + seed);
            guests++;
            long made = g.info().map(org.lguest.lg.GuestInfo::hypercalls).orElse(0L);
            calls += made;
            String reason = end.reason();
            assertTrue(!reason.isBlank(), "seed " + seed + " ended without a reason");
            assertTrue(!reason.contains("hostile: ESCAPE"), "seed " + seed + ": " + reason + "\n" + console(g));
            assertTrue(!reason.startsWith("host error") && !reason.startsWith("Launcher: java"),
                    "seed " + seed + ": the host failed (an exception, not a kill): " + reason);
            outcomes.merge(reason.startsWith("CRASH: hostile: contained") ? "ran all its calls"
                    : reason.startsWith("CRASH:") ? "crashed itself (CRASH)" : reason.replaceAll("0x[0-9a-f]+|\\d+", "N"),
                    1, Integer::sum);
            launcher.remove(g.id());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("IsolationTest: %d hypercalls by %d fuzzing guests in %.1f s (%.0f calls/s); outcomes:%n", calls,
                guests, seconds, calls / seconds);
        outcomes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(15)
                .forEach(e -> System.out.printf("  %5d  %s%n", e.getValue(), e.getKey()));
        if (good != null) {
            assertGoodGuestPassed(good, await(good, GOOD_SECONDS, "the good guest"));
        }
        assertHostHealthy();
        assumeGoodGuestRan();
    }

    /** Guest instructions the instruction fuzz runs in all (CI size); {@code -Dlguest.fuzz.instructions=N} for more. */
    static final long FUZZ_INSTRUCTIONS = Long.getLong("lguest.fuzz.instructions", 10_000_000);
    /** Random-code cases the instruction fuzz tallies at least (a guest looping for ever retires instructions, not cases). */
    static final long FUZZ_CASES = Long.getLong("lguest.fuzz.cases", 10_000);
    /** A fuzzing guest still running after this long is carrying on (its random code may have stopped its clock). */
    static final int INSN_FUZZ_SECONDS = 5;

    @Test
    @Timeout(1800)
    void randomInstructionsAtRingOneAndThreeEndEachCaseInATrapAKillOrCarryingOn() throws Exception {
        long base = Long.getLong("lguest.fuzz.seed", System.nanoTime() % 1_000_000_000L);
        System.out.println("IsolationTest: instruction fuzz from seed " + base + " (-Dlguest.fuzz.seed=" + base
                + " repeats it), " + FUZZ_INSTRUCTIONS + " guest instructions and " + FUZZ_CASES + " cases at least");
        probeGoodGuest();
        Guest good = goodBrokenAlone != null ? null : start("good", GUEST_KERNEL, "selftest poweroff", 64L << 20);
        long instructions = 0, cases = 0, loopingInstructions = 0, corruptTallies = 0;
        int guests = 0;
        Map<String, Integer> endings = new java.util.TreeMap<>();
        Map<String, Long> caseOutcomes = new java.util.TreeMap<>();
        java.util.regex.Pattern summary = java.util.regex.Pattern.compile(
                "insnfuzz: (\\d+) cases \\((\\d+) at ring 1, (\\d+) at ring 3\\) from seed \\d+;([^\\n]*)");
        long t0 = System.nanoTime();
        for (long seed = base; instructions < FUZZ_INSTRUCTIONS || cases < FUZZ_CASES; seed++) {
            Guest g = start("insnfuzz-" + seed, hostileKernel("insnfuzz"), "seed=" + seed + " cases=4000", HOSTILE_MEMORY);
            Guest.End end;
            try {
                end = g.ending().toCompletableFuture().get(INSN_FUZZ_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                end = null; // carrying on: the random code left it looping or halted for good
            }
            guests++;
            long retired = g.info().map(org.lguest.lg.GuestInfo::instructions).orElse(0L);
            if (end == null) {
                loopingInstructions += retired; // not counted toward the goal: a loop is not fuzzing
            } else {
                instructions += retired;
            }
            String out = console(g);
            String reason = end == null ? "carrying on when stopped after " + INSN_FUZZ_SECONDS + " s" : end.reason();
            assertTrue(!reason.isBlank(), "seed " + seed + " ended without a reason");
            assertTrue(!reason.contains("hostile: ESCAPE") && !reason.contains("hostile: unexpected"),
                    "seed " + seed + ": " + reason + "\n" + out);
            assertTrue(!reason.startsWith("host error") && !reason.startsWith("Launcher: java"),
                    "seed " + seed + ": the host failed (an exception, not a kill): " + reason + " (-Dlguest.fuzz.seed=" + seed + ")");
            // The last tally the guest printed (every 50 cases, and in its CRASH line when it ran them all).
            java.util.regex.Matcher tally = summary.matcher(out + "\n" + reason);
            String last = null;
            while (tally.find()) {
                last = tally.group();
            }
            if (last != null) {
                java.util.regex.Matcher t = summary.matcher(last);
                t.find();
                long n = Long.parseLong(t.group(1));
                Map<String, Long> counts = new java.util.TreeMap<>();
                for (String o : t.group(4).trim().split(" ")) {
                    if (!o.isEmpty()) {
                        String[] kv = o.split(":");
                        counts.put(kv[0], Long.parseLong(kv[1]));
                    }
                }
                // The tally lives in the guest's memory, which random code at ring 1 may overwrite.
                if (counts.values().stream().mapToLong(Long::longValue).sum() == n) {
                    cases += n;
                    counts.forEach((k, v) -> caseOutcomes.merge(k, v, Long::sum));
                } else {
                    corruptTallies++;
                }
            }
            endings.merge(reason.startsWith("CRASH: hostile: contained") ? "ran all its cases"
                    : reason.startsWith("CRASH:") ? "crashed itself (CRASH)" : reason.replaceAll("0x[0-9a-f]+|\\d+", "N"),
                    1, Integer::sum);
            launcher.remove(g.id());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("IsolationTest: %d guest instructions (and %d more in guests still looping when stopped),"
                + " %d random-code cases tallied, by %d fuzzing guests in %.1f s (%.0f instructions/s, %.0f cases/s)%n",
                instructions, loopingInstructions, cases, guests, seconds, (instructions + loopingInstructions) / seconds,
                cases / seconds);
        System.out.println("  how the cases ended (vN: exception N reflected to the guest; end: ran to the closing ud2;"
                + " timeout: ended by the timer): " + caseOutcomes + "; tallies left out because the random code"
                + " overwrote them: " + corruptTallies);
        System.out.println("  how the guests ended:");
        endings.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(15)
                .forEach(e -> System.out.printf("  %5d  %s%n", e.getValue(), e.getKey()));
        assertTrue(corruptTallies * 20 <= guests, corruptTallies + " of " + guests + " guests printed a tally that does"
                + " not add up: more than random ring-1 stores into the tally explain (DF left set? a host bug?)");
        assertTrue(caseOutcomes.getOrDefault("v14", 0L) > 0 && caseOutcomes.getOrDefault("v13", 0L) > 0
                && caseOutcomes.getOrDefault("end", 0L) > 0,
                "page faults, #GPs and cases that ran to their end are all expected among " + cases + " cases: " + caseOutcomes);
        if (good != null) {
            assertGoodGuestPassed(good, await(good, GOOD_SECONDS, "the good guest"));
        }
        assertHostHealthy();
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void directWritesToTheSwitcherFaultAndAreReflected() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("switcher", "direct");
        assertContained(ends, "direct", "all 3 direct writes to the Switcher region faulted");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void mappingTheSwitcherSlotIsRefused() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("switcher", "map", "setpte", "stack", "stack-nomap");
        // Telling the host about the mapping kills; touching it through a (trimmed) segment is a #GP first.
        assertContained(ends, "map", "the write to 0xFFC00000 through our slot-1023 mapping was reflected (vector 13,");
        assertKilled(ends, "setpte", "attempt to access switcher pages");
        assertKilled(ends, "stack", "attempt to access switcher pages|bad stack page");
        assertKilled(ends, "stack-nomap", "attempt to access switcher pages|bad stack page");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void aStackPointerInTheSwitcherKillsTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("switcher", "esp");
        // int3 with %esp = 0xFFC02000: the CPU cannot push (trimmed SS: #SS), and reflecting that fault
        // needs the guest's own mapping of 0xFFC01FFC, which does not exist: killed.
        assertKilled(ends, "esp", "bad address 0xffc01ffc");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void gdtEntriesWithDpl0StillRunAtRing1() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("gdt", "dpl0");
        assertContained(ends, "dpl0", "DPL-0 entries did not give CPL 0");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void gdtSegmentsReachingTheSwitcherAreTrimmedAndWritesRaiseGp() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("gdt", "limit");
        // Limits trimmed below 0xFFC00000 (architecture.md §3): every write is a #GP, reflected.
        assertContained(ends, "limit", "every write through a 4 GB segment into the Switcher trapped (4 #GP, 0 #PF)");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void aGdtCallGateToHostCodeDoesNotGiveRing0() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("gdt", "callgate", "tls-callgate");
        assertContained(ends, "callgate", "the call gate to the Host's code segment did not give CPL 0 (-1)");
        assertContained(ends, "tls-callgate", "TLS entries did not give CPL 0 (lcall 0x33 -> -1, ljmp 0x38 -> 1;");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void pageTablesBeyondThePfnLimitKillTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("pfn", "pte", "fault", "pde");
        assertKilled(ends, "pte", "bad page table entry .*beyond guest memory");
        assertKilled(ends, "fault", "bad page table entry .*beyond guest memory");
        assertKilled(ends, "pde", "bad page directory entry .*beyond guest memory");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void pageTableFlagsTheHostRefusesKillTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("pfn", "pwt", "pse");
        assertKilled(ends, "pwt", "bad page table entry .*PWT");
        assertKilled(ends, "pse", "bad page directory entry .*flags");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void setPmdIndexesBeyondTheDirectoryAreIgnored() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("pfn", "pmd-index");
        assertContained(ends, "pmd-index", "SET_PMD with indexes 1024, 4096, 0x40000000, 0x80000000 and 0xFFFFFFFF were ignored");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void idtVectorsBeyondTheTableAreIgnored() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "bigvector");
        assertContained(ends, "bigvector", "LOAD_IDT_ENTRY for vectors 64, 0x81, 255, 256,");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void aPageDirectoryEntryInSlot1023IsNeverReached() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("pfn", "slot1023");
        // SET_PMD(1023) is ignored; the read of 0xFFFFF000 is beyond every (trimmed) segment: #GP, reflected.
        assertContained(ends, "slot1023", "the read of 0xfffff000 was reflected to us (vector 13,");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void hypercallArgumentsOutsideGuestMemoryKillTheGuest() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        String bad = "bad (guest-physical )?address|beyond|outside|guest memory ends";
        expected.put("init-beyond", "bad lguest_data address|" + bad);
        expected.put("init-wrap", "bad lguest_data address|wraps|" + bad);
        expected.put("gdt-beyond", bad);
        expected.put("gdt-wrap", "wraps|" + bad);
        expected.put("gdt-count", "too many gdt entries");
        expected.put("send-beyond", bad);
        expected.put("send-section", bad + "|bad DMA");
        expected.put("send-wrap", "wraps|bad DMA|" + bad);
        expected.put("send-cross", "bad DMA entry: section 0 .* crosses a page boundary");
        expected.put("send-overlap", "bad DMA entry: section 1 .* overlaps section 0");
        expected.put("key-beyond", "bad DMA key");
        expected.put("crash-beyond", bad);
        expected.put("pgtable-beyond", bad);
        expected.put("tls-wrap", "wraps|" + bad);
        expected.put("stack-pages", "bad stack pages 4294967295");
        expected.put("stack-rpl", "bad stack segment 0x68");
        Map<String, Guest.End> ends = runBesideGoodGuest("hcallargs", expected.keySet().toArray(String[]::new));
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertKilled(ends, e.getKey(), e.getValue());
        }
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void dmaBuffersBoundOutsideGuestMemoryKillTheGuest() throws Exception {
        Run run = startBesideGoodGuest("hcallargs", "bind-beyond", "bind-wrap");
        for (String v : List.of("bind-beyond", "bind-wrap")) {
            Guest g = run.hostile.get(v);
            // Killed at BIND_DMA, or waiting for input: then feed a line, which makes the Launcher use the buffer.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HOSTILE_SECONDS);
            while (g.state() == Guest.State.RUNNING && !console(g).contains("waiting for console input")
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (g.state() == Guest.State.RUNNING) {
                g.input("console", "x\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        Map<String, Guest.End> ends = finish(run);
        assertKilled(ends, "bind-beyond", "bad (guest-physical )?address|beyond|outside|bad DMA");
        assertKilled(ends, "bind-wrap", "bad (guest-physical )?address|wraps|beyond|outside|bad DMA");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void protectedIdtVectorsStayWithTheHost() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "protected", "hcall-gate");
        assertContained(ends, "protected", "the Host ignored LOAD_IDT_ENTRY for 2, 8 and 15; hypercalls still reach it");
        // 2.6.23 ignores a gate for 0x1F too; this host kills (lg-module 8f741c1). Either keeps the vector.
        Guest.End gate = ends.get("hcall-gate");
        if (!gate.reason().startsWith("CRASH: hostile: contained:")) {
            assertKilled(ends, "hcall-gate", "hypercall vector 0x1f");
        }
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void pageFaultAndGpTrapGatesStayWithTheHost() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "trap-gates");
        assertContained(ends, "trap-gates", "13 and 14 stayed with the Host (no fault reached us; inb read ff)");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void idtGatesIntoTheSwitcherKillTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "switcher-gate");
        // int3 is reflected to the gate's address 0xFFC000E0, beyond the trimmed code segment: #GP(0) there;
        // the host's in/out emulation reads the instruction at that eip, which is not guest memory: killed
        // (2.6.23's emulate_insn kills the same way, through lgread).
        assertKilled(ends, "switcher-gate", "0xffc000e0");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void anIdtGateSelectorIsForcedToTheGuestKernelSegment() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "selector");
        assertContained(ends, "selector", "the gate's selector 0x50 did not give CPL 0 (handler CPL 1;");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void anIdtTaskGateKillsTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("idt", "badtype");
        assertKilled(ends, "badtype", "bad IDT type 5 for vector 32");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(600)
    void brokenHypercallRulesKillTheGuest() throws Exception {
        Map<String, Guest.End> ends = runBesideGoodGuest("early",
                "before-init", "unknown", "unknown-max", "ring-unknown", "second-init");
        assertKilled(ends, "before-init", "before LHCALL_LGUEST_INIT");
        assertKilled(ends, "unknown", "Bad hypercall 17");
        assertKilled(ends, "unknown-max", "Bad hypercall 4294967295");
        assertKilled(ends, "ring-unknown", "Bad hypercall 99");
        assertKilled(ends, "second-init", "LHCALL_LGUEST_INIT a second time");
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(900)
    void floodingGuestsDoNotStallTheHostOrTheOtherGuest() throws Exception {
        // Every send to an unbound key is logged by the Launcher: count those records instead of printing them.
        java.util.logging.Logger launcherLog = java.util.logging.Logger.getLogger("org.lguest.launcher");
        java.util.concurrent.atomic.AtomicLong logged = new java.util.concurrent.atomic.AtomicLong();
        java.util.logging.Handler counter = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.incrementAndGet();
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        launcherLog.addHandler(counter);
        launcherLog.setUseParentHandlers(false);
        Run run;
        long floodStart = System.nanoTime();
        long floodSeconds;
        try {
            run = startBesideGoodGuest(HEAD_START_MILLIS, "flood", "clock", "dma", "console");
            assertOtherGuestKeepsItsPace(run, goodAlone);
        } finally {
            floodSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - floodStart) + 1;
            launcherLog.setUseParentHandlers(true);
            launcherLog.removeHandler(counter);
            System.out.printf("IsolationTest: the Launcher logged %d records during the %d s flood%n", logged.get(), floodSeconds);
        }
        // A guest cannot flood the host's log: about one line a second per guest (four guests), plus start and stop lines.
        assertTrue(logged.get() <= 4 * (floodSeconds + 1) + 20,
                "the Launcher logged " + logged.get() + " records in " + floodSeconds + " s of flooding");
        // The attacks really ran: each printed its progress line.
        assertProgress(run, "clock", "flood clock: \\d+ timer interrupts so far");
        assertProgress(run, "dma", "flood dma: \\d+ rounds of 32 sends");
        assertProgress(run, "console", "flood console: line \\d+");
        assertStopsPromptly(run);
        assumeGoodGuestRan();
    }

    @Test
    @Timeout(900)
    void guestsThatNeverHaltAreTimeSliced() throws Exception {
        Run run = startBesideGoodGuest(HEAD_START_MILLIS, "nohalt", "spin", "cli", "noirq");
        Duration alone = goodAlone;
        assertOtherGuestKeepsItsPace(run, alone);
        for (Map.Entry<String, Guest> h : run.hostile.entrySet()) {
            assertEquals(Guest.State.RUNNING, h.getValue().state(),
                    "nohalt " + h.getKey() + " should still be running (only a stop ends it); console:\n"
                            + console(h.getValue()));
            assertTrue(h.getValue().info().orElseThrow().exits() > 0,
                    "nohalt " + h.getKey() + ": the host never took the CPU back (0 exits)");
            // Console input for a guest that never halts (and bound no buffer): the Launcher must wake it
            // (BREAK) and answer; the caller must not block.
            Guest g = h.getValue();
            java.util.concurrent.CompletableFuture<Boolean> typed = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> g.input("console", "x\n".getBytes(StandardCharsets.US_ASCII)));
            try {
                typed.get(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("console input for spinning guest nohalt " + h.getKey() + " blocked the caller for 5 s");
            }
        }
        assertStopsPromptly(run);
        assumeGoodGuestRan();
    }

    // ---- running guests ----------------------------------------------------------------------

    /** A good guest and hostile guests started together. */
    record Run(Guest good, long goodStart, Map<String, Guest> hostile) {
    }

    Guest start(String name, Path kernel, String cmdline, long memory) throws LaunchException {
        assertTrue(Files.isRegularFile(kernel), "kernel not built: " + kernel.toAbsolutePath()
                + " (guest/build.sh builds it; the reactor builds guest/ first)");
        return launcher.start(new GuestSpec(name, memory, kernel, cmdline, List.of()));
    }

    static Path hostileKernel(String attack) {
        return GUEST_KERNEL.resolveSibling("hostile-" + attack + ".elf");
    }

    /**
     * The good guest alone, once per run of the class: its time (the pace bound of the flood
     * tests), or why it fails even alone. When it fails alone, the tests still run every hostile
     * guest and assert everything about them and the host, then skip (an assumption, last) the
     * half about the good guest, naming the failure: its failure alone is not the attacks' doing.
     */
    static Duration goodAlone;
    static String goodBrokenAlone;
    static boolean probed;

    void probeGoodGuest() throws Exception {
        synchronized (IsolationTest.class) {
            if (probed) {
                return;
            }
            probed = true;
            long t0 = System.nanoTime();
            Guest good = start("good-alone", GUEST_KERNEL, "selftest poweroff", 64L << 20);
            Guest.End end = await(good, GOOD_SECONDS, "the good guest alone");
            try {
                assertGoodGuestPassed(good, end);
                goodAlone = Duration.ofNanos(System.nanoTime() - t0);
                System.out.printf("IsolationTest: the good guest alone took %d ms%n", goodAlone.toMillis());
            } catch (AssertionError e) {
                String out = console(good);
                goodBrokenAlone = "the good guest (" + GUEST_KERNEL.getFileName() + " selftest poweroff) fails even"
                        + " alone, so the good-guest half of this test was skipped. It ended: " + end.reason()
                        + "; its console ends: " + out.substring(Math.max(0, out.length() - 200));
                System.out.println("IsolationTest: " + goodBrokenAlone);
            }
            launcher.remove(good.id());
        }
    }

    /** Call last: skips (does not pass) a test whose good-guest half could not run. */
    void assumeGoodGuestRan() {
        Assumptions.assumeTrue(goodBrokenAlone == null, () -> goodBrokenAlone);
    }

    /** How long the flooding and spinning guests run before the good guest starts. */
    static final long HEAD_START_MILLIS = 3000;

    Run startBesideGoodGuest(String attack, String... variants) throws Exception {
        return startBesideGoodGuest(0, attack, variants);
    }

    /** Starts the hostile guests, waits {@code headStartMillis}, then starts the good guest (unless it fails alone). */
    Run startBesideGoodGuest(long headStartMillis, String attack, String... variants) throws Exception {
        probeGoodGuest();
        Map<String, Guest> hostile = new LinkedHashMap<>();
        for (String v : variants) {
            hostile.put(v, start(attack + "-" + v, hostileKernel(attack), v, HOSTILE_MEMORY));
        }
        Thread.sleep(headStartMillis);
        long t0 = System.nanoTime();
        Guest good = goodBrokenAlone != null ? null : start("good", GUEST_KERNEL, "selftest poweroff", 64L << 20);
        return new Run(good, t0, hostile);
    }

    void assertProgress(Run run, String variant, String regex) {
        String out = console(run.hostile.get(variant));
        assertTrue(Pattern.compile(regex).matcher(out).find(), "hostile " + variant + " never printed /" + regex
                + "/: the attack did not run; its console:\n" + out.substring(Math.max(0, out.length() - 2000)));
    }

    Map<String, Guest.End> runBesideGoodGuest(String attack, String... variants) throws Exception {
        return finish(startBesideGoodGuest(attack, variants));
    }

    /** Waits for every guest; checks the good guest and the host; returns the hostile ends by variant. */
    Map<String, Guest.End> finish(Run run) throws Exception {
        Map<String, Guest.End> ends = new LinkedHashMap<>();
        for (Map.Entry<String, Guest> h : run.hostile.entrySet()) {
            ends.put(h.getKey(), await(h.getValue(), HOSTILE_SECONDS, "hostile " + h.getKey()));
        }
        if (run.good != null) {
            assertGoodGuestPassed(run.good, await(run.good, GOOD_SECONDS, "the good guest"));
        }
        assertHostHealthy();
        for (Map.Entry<String, Guest.End> e : ends.entrySet()) {
            String reason = e.getValue().reason();
            assertTrue(!reason.contains("hostile: ESCAPE"), "ESCAPE by hostile " + e.getKey() + ": " + reason
                    + "\nits console:\n" + console(run.hostile.get(e.getKey())));
        }
        lastRun = run;
        return ends;
    }

    Run lastRun;

    Guest.End await(Guest g, int seconds, String who) throws Exception {
        try {
            return g.ending().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(who + " (" + g.spec().name() + ") did not end within " + seconds
                    + " s; state " + g.state() + ", host counters " + g.info().orElse(null)
                    + "; console so far:\n" + console(g), e);
        }
    }

    /** Everything the guest printed (recorded by our console driver; it outlives the guest). */
    String console(Guest g) {
        StringBuilder sb = new StringBuilder();
        for (RecordingDriver.BackEnd b : consoles.opened) {
            if (b.context.guestName().equals(g.spec().name())) {
                sb.append(b.output.toString()); // a snapshot: the guest may still be printing
            }
        }
        return sb.length() == 0 ? "(nothing on the console)" : sb.toString();
    }

    void assertGoodGuestPassed(Guest good, Guest.End end) {
        String out = console(good);
        assertTrue(end.poweredOff(), "the good guest did not power off but ended with: " + end
                + "\nits console:\n" + out);
        for (String t : SELFTESTS) {
            assertTrue(out.contains("PASS " + t), "the good guest is missing PASS " + t + "\nits console:\n" + out);
        }
        assertTrue(!out.contains("FAIL "), "the good guest printed a FAIL line\nits console:\n" + out);
        assertTrue(!out.contains("hostile:"), "a hostile guest's output reached the good guest's console\n" + out);
        Matcher m = Pattern.compile("selftest: (\\d+) passed, (\\d+) failed").matcher(out);
        assertTrue(m.find() && m.group(2).equals("0"), "the good guest's summary line\nits console:\n" + out);
    }

    void assertHostHealthy() {
        assertTrue(uncaught.isEmpty(), "exceptions escaped the host on some thread: " + uncaught);
        for (Guest g : launcher.list()) {
            g.ending().toCompletableFuture().getNow(null);
            Guest.End end = g.ending().toCompletableFuture().getNow(null);
            if (end != null) {
                assertTrue(!end.reason().startsWith("Launcher: java") && !end.reason().startsWith("host error")
                        && !end.reason().startsWith("INITIALIZE failed"),
                        "the host failed for " + g.spec().name() + " (an exception, not a kill): " + end.reason());
            }
        }
        control.guests(); // the control interface still answers
    }

    void assertKilled(Map<String, Guest.End> ends, String variant, String reasonRegex) {
        Guest.End end = ends.get(variant);
        Guest g = lastRun.hostile.get(variant);
        String where = "hostile " + g.spec().name() + " (" + g.spec().kernel().getFileName() + " " + variant + ")";
        assertEquals(Guest.State.DEAD, end.state(), where + " should be killed by the host; it ended " + end
                + "\nits console:\n" + console(g));
        assertTrue(!end.reason().startsWith("CRASH: hostile:"), where + " should be killed by the host (reason matching /"
                + reasonRegex + "/), but it crashed itself: " + end.reason() + "\nits console:\n" + console(g));
        assertTrue(Pattern.compile(reasonRegex, Pattern.CASE_INSENSITIVE).matcher(end.reason()).find(),
                where + " was killed, but for the wrong reason: expected /" + reasonRegex + "/, got: "
                        + end.reason() + "\nits console:\n" + console(g));
    }

    void assertContained(Map<String, Guest.End> ends, String variant, String expectedMessage) {
        Guest.End end = ends.get(variant);
        Guest g = lastRun.hostile.get(variant);
        String where = "hostile " + g.spec().name() + " (" + g.spec().kernel().getFileName() + " " + variant + ")";
        String want = "CRASH: hostile: contained: " + expectedMessage;
        assertTrue(end.reason().startsWith(want), where + " should be contained and end with \"" + want
                + "...\"; it ended: " + end + "\nits console:\n" + console(g));
    }

    // ---- pace --------------------------------------------------------------------------------

    /** The good guest, beside the hostile ones, passes within 3 x its time alone + 20 s. */
    void assertOtherGuestKeepsItsPace(Run run, Duration alone) throws Exception {
        if (run.good == null) {
            Thread.sleep(10_000); // the hostile guests run alone meanwhile
            assertHostHealthy();
            return;
        }
        long t0 = System.nanoTime();
        control.guests();
        launcher.list();
        long answerMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(answerMillis < 1000, "the host answered a listing only after " + answerMillis + " ms");
        // Generous for an interpreter whose JIT and the machine's other load vary, tight enough to catch a stall.
        Duration bound = alone.multipliedBy(4).plusSeconds(5);
        Guest.End end;
        try {
            long left = bound.toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - run.goodStart);
            end = run.good.ending().toCompletableFuture().get(Math.max(left, 0), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, Guest> h : run.hostile.entrySet()) {
                sb.append("\n  ").append(h.getKey()).append(": ").append(h.getValue().state()).append(", ")
                        .append(h.getValue().info().orElse(null));
            }
            fail("the good guest lost its pace: not done " + bound.toSeconds() + " s after start (alone it took "
                    + alone.toMillis() + " ms); hostile guests:" + sb + "\ngood guest console so far:\n"
                    + console(run.good));
            return;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - run.goodStart);
        assertGoodGuestPassed(run.good, end);
        System.out.printf("IsolationTest: good guest alone %d ms, beside hostile guests %d ms%n",
                alone.toMillis(), took.toMillis());
        for (Map.Entry<String, Guest> h : run.hostile.entrySet()) {
            Guest.End he = h.getValue().ending().toCompletableFuture().getNow(null);
            assertTrue(he == null, "hostile " + h.getKey() + " ended by itself: " + he + "\nits console:\n"
                    + console(h.getValue()));
        }
        assertHostHealthy();
    }

    /** stop() ends each hostile guest within 5 s (BREAK reaches a running guest promptly). */
    void assertStopsPromptly(Run run) throws Exception {
        for (Map.Entry<String, Guest> h : run.hostile.entrySet()) {
            long t0 = System.nanoTime();
            Thread stopper = Thread.ofPlatform().start(h.getValue()::stop);
            Guest.End end;
            try {
                end = h.getValue().ending().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("stop() did not end hostile " + h.getKey() + " within 5 s; state " + h.getValue().state());
                return;
            }
            stopper.join(5000);
            assertTrue(!stopper.isAlive(), "stop() of hostile " + h.getKey() + " did not return within 5 s");
            assertEquals(Guest.State.STOPPED, end.state(), "hostile " + h.getKey() + " ended " + end);
            System.out.printf("IsolationTest: stopped %s in %d ms%n", h.getKey(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
        assertHostHealthy();
    }
}
