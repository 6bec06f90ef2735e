package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.abi.LguestDma;
import org.lguest.lg.host.HostGuest;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.SharedRegion;
import org.lguest.switcher.SwitcherGuest;

/**
 * The DMA router fuzzed by a hostile guest: random BIND_DMA, SEND_DMA and
 * GETDMA with keys, lguest_dma arrays and counts biased to the edges (the
 * shared page and its neighbours, misaligned, outside memory, wrapping),
 * over random bytes written into its own DMA descriptors and into the
 * shared page. Beside it a well-behaved guest keeps a receive buffer bound
 * on the same shared key and sends to it. The rules: every call returns or
 * ends the hostile guest (a {@link GuestViolationException}, or its kill by
 * the router, with a reason); the good guest is never killed and never gets
 * more than its buffer holds; nothing else escapes. A killed guest is
 * replaced. The seed is printed ({@code -Dlguest.fuzz.seed=N} repeats a
 * run, {@code -Dlguest.fuzz.actions=N} runs longer; CI: 100 000).
 */
class DmaFuzzTest {
    static final long ACTIONS = Long.getLong("lguest.fuzz.actions", 100_000);
    static final int PAGES = 64;
    /** The shared page's guest-physical address (after the guest's 64 pages). */
    static final int KEY = PAGES << 12;
    static final int GOOD_RX = 0x5100, GOOD_TX = 0x5200, GOOD_BUFFER = 0x6800, GOOD_BUFFER_LENGTH = 64;

    final Harness h = new Harness();
    final SharedRegion net = h.mmu.newSharedRegion("net", 1);
    final DmaRouterImpl router = new DmaRouterImpl();

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** A guest as the router sees it: memory, an interrupt line, death. */
    static final class FakeGuest implements HostGuest {
        final GuestMemory memory;
        final String name;
        String killed;
        int interrupts;

        FakeGuest(String name, GuestMemory memory) {
            this.name = name;
            this.memory = memory;
        }

        @Override public int id() { return name.hashCode() & 0xF; }
        @Override public String name() { return name; }
        @Override public GuestMemory memory() { return memory; }
        @Override public void raiseInterrupt(int irq) { interrupts++; }
        @Override public void kill(String reason) { if (killed == null) { killed = reason; } }
        @Override public boolean isDead() { return killed != null; }
        @Override public GuestAbi abi() { return GuestAbi.LGUEST_2_6_23; }
        @Override public Cpu cpu() { throw new UnsupportedOperationException("the router needs no processor"); }
        @Override public ShadowPageTables pageTables() { throw new UnsupportedOperationException(); }
        @Override public SwitcherGuest switcher() { throw new UnsupportedOperationException(); }
        @Override public int lguestData() { return 0x4000; }
        @Override public void setLguestData(int address) { }
        @Override public void setNoInterruptRange(int start, int end) { }
        @Override public void setNoInterruptIret(int eip) { }
        @Override public int nextHcall() { return 0; }
        @Override public void setNextHcall(int slot) { }
        @Override public void setGuestGate(int vector, int lo, int hi) { }
        @Override public void setGdtEntry(int index, int lo, int hi) { }
        @Override public void setTaskSwitched(boolean ts) { }
        @Override public void halt() { }
        @Override public void setClockEvent(long deltaNs) { }
        @Override public void dmaForLauncher(int dma, int key) { }
    }

    GuestMemory memory() {
        org.lguest.mmu.GuestMemoryBuilder builder = h.mmu.newGuestMemory(PAGES);
        builder.addShared("net", net);
        return builder.build();
    }

    static void dma(GuestMemory m, int at, int address, int length) {
        m.writeU32(at + LguestDma.USED_LEN, 0);
        m.writeU32(at + LguestDma.ADDR, address);
        m.writeU16(at + LguestDma.LEN, length);
        m.writeU16(at + LguestDma.LEN + 2, 0); // one section
    }

    static int edgy(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> KEY + (r.nextInt(9) - 4) * 4;
            case 3 -> KEY + 4096 - 4 * r.nextInt(3);
            case 4 -> KEY + r.nextInt(4096);
            case 5 -> (PAGES << 12) - r.nextInt(64);
            case 6 -> r.nextInt();
            case 7 -> 0xFFFFF000 + r.nextInt(4096);
            default -> 0x5000 + r.nextInt(0x3000);
        };
    }

    @Test
    void hostileDmaReturnsOrKillsTheSenderAndTheGoodNeighbourCarriesOn() {
        long seed = Long.getLong("lguest.fuzz.seed", System.nanoTime());
        System.out.println("DmaFuzzTest: seed " + seed + ", " + ACTIONS + " actions (-Dlguest.fuzz.seed=" + seed
                + " repeats this run)");
        SplittableRandom r = new SplittableRandom(seed);
        FakeGuest good = new FakeGuest("good", memory());
        dma(good.memory, GOOD_RX, GOOD_BUFFER, GOOD_BUFFER_LENGTH);
        assertEquals(1, router.bind(good, KEY, GOOD_RX, 1 << 8 | 4));
        FakeGuest bad = new FakeGuest("bad", memory());
        long guests = 1, received = 0;
        Map<String, Long> kills = new TreeMap<>();
        for (long i = 0; i < ACTIONS; i++) {
            int action = r.nextInt(8);
            try {
                switch (action) {
                    case 0 -> router.bind(bad, edgy(r), edgy(r), r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(1 << 12));
                    case 1, 2 -> router.send(bad, r.nextInt(3) == 0 ? edgy(r) : KEY, r.nextInt(3) == 0 ? edgy(r) : 0x5000 + 16 * r.nextInt(64));
                    case 3 -> router.getDma(bad, edgy(r));
                    case 4 -> { // scribble over its own descriptors, or over the shared page
                        byte[] junk = new byte[1 + r.nextInt(64)];
                        r.nextBytes(junk);
                        int at = r.nextBoolean() ? 0x5000 + r.nextInt(0x1000 - junk.length) : KEY + r.nextInt(4096 - junk.length);
                        bad.memory.write(at, junk);
                    }
                    case 5 -> { // a plausible send: sections in its memory, some of them long, crossing, or outside
                        int at = 0x5000 + 16 * r.nextInt(64);
                        bad.memory.writeU32(at + LguestDma.USED_LEN, 0);
                        for (int s = 0; s < LguestDma.MAX_SECTIONS; s++) {
                            bad.memory.writeU32(at + LguestDma.ADDR + 4 * s, r.nextInt(4) == 0 ? edgy(r) : 0x7000 + r.nextInt(0x2000));
                            bad.memory.writeU16(at + LguestDma.LEN + 2 * s, s > r.nextInt(LguestDma.MAX_SECTIONS) ? 0 : r.nextInt(4) == 0 ? 0xFFFF : r.nextInt(200));
                        }
                        router.send(bad, KEY, at);
                    }
                    case 6 -> { // the good neighbour's own traffic: it restocks and sends to itself through the key
                        if (good.memory.readU32(GOOD_RX + LguestDma.USED_LEN) != 0) {
                            int used = good.memory.readU32(GOOD_RX + LguestDma.USED_LEN);
                            assertTrue(used <= GOOD_BUFFER_LENGTH, "the good guest got " + used + " bytes in a "
                                    + GOOD_BUFFER_LENGTH + "-byte buffer (seed " + seed + ", action " + i + ")");
                            received++;
                            good.memory.writeU32(GOOD_RX + LguestDma.USED_LEN, 0);
                        }
                        dma(good.memory, GOOD_TX, 0x7000, 1 + r.nextInt(100));
                        router.send(good, KEY, GOOD_TX);
                    }
                    default -> {
                        if (r.nextInt(16) == 0) {
                            router.unbindAll(bad);
                        } else {
                            router.bind(bad, KEY, 0x5000 + 16 * r.nextInt(64), (1 + r.nextInt(4)) << 8 | r.nextInt(32));
                        }
                    }
                }
            } catch (GuestViolationException e) {
                if (action == 6) {
                    throw new AssertionError("the good guest was refused (seed " + seed + ", action " + i + "): " + e.reason(), e);
                }
                bad.kill(e.reason());
            } catch (RuntimeException | Error e) {
                throw new AssertionError("action " + i + " (" + action + ") of seed " + seed + " escaped: " + e, e);
            }
            assertTrue(good.killed == null, "the good guest was killed (seed " + seed + ", action " + i + "): " + good.killed);
            if (bad.isDead()) {
                kills.merge(bad.killed.replaceAll("0x[0-9a-f]+|\\d+", "N"), 1L, Long::sum);
                router.unbindAll(bad);
                bad.memory.close(); // leaves the shared region
                bad = new FakeGuest("bad", memory());
                guests++;
            }
        }
        System.out.printf("DmaFuzzTest: %d actions, %d hostile guests (%d killed), the good guest received %d times; kills:%n",
                ACTIONS, guests, guests - 1, received);
        kills.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(10)
                .forEach(e -> System.out.printf("  %6d  %s%n", e.getValue(), e.getKey()));
        assertTrue(guests > 1, "no hostile guest was ever killed: the fuzzer does not reach the checks");
        assertTrue(received > 0, "the good guest never received: the fuzzer does not reach the copies");
    }
}
