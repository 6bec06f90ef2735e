package org.lguest.launcher.impl.virtio;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestViolationException;

/**
 * A hostile guest's virtio, fuzzed: random PCI configuration accesses, BAR0
 * register reads and writes, descriptor tables, available rings and
 * notifies, input for the receive queues, and a model that answers what it
 * is given with random writes and lengths, on a bus with a console, a disk
 * and a network card. The rule: every action returns or ends the guest with
 * a {@link GuestViolationException} (its kill, with a reason); nothing else
 * escapes. A killed guest is replaced by a fresh one and the run goes on.
 * The seed is printed; a failure names the seed and the action, so it is
 * reproducible with {@code -Dlguest.fuzz.seed=N}. {@code -Dlguest.fuzz.actions=N}
 * runs longer (CI: 100 000).
 */
class VirtioFuzzTest {
    static final long ACTIONS = Long.getLong("lguest.fuzz.actions", 100_000);

    /** One guest: the rig (console at slot 1) plus a disk and a network card. */
    static final class Guest {
        final VirtioRig rig = new VirtioRig();
        final VirtioPciDevice disk;
        final VirtioPciDevice net;
        final VirtioPciDevice[] devices;
        final SplittableRandom random;
        static long served;

        Guest(SplittableRandom random) {
            this.random = random;
            disk = rig.device(new VirtioBlock(2048, 512, false, this::serve), 2);
            net = rig.device(new VirtioNet(new byte[] {2, 0, 0, 0, 0, 1}, this::serve), 3);
            rig.bus.add(disk);
            rig.bus.add(net);
            devices = new VirtioPciDevice[] {rig.console, disk, net};
        }

        /** The model: reads what it was given, writes random bytes at random offsets, answers with a random length. */
        void serve(DeviceRequest r) {
            served++;
            for (ByteBuffer b : r.readable()) {
                while (b.hasRemaining()) {
                    b.get();
                }
            }
            r.gather();
            if (random.nextInt(4) == 0) {
                byte[] junk = new byte[random.nextInt(64)];
                random.nextBytes(junk);
                r.write(random.nextInt(Math.max(1, r.writableLength() + 8)), ByteBuffer.wrap(junk));
            }
            int len = switch (random.nextInt(4)) {
                case 0 -> -1;
                case 1 -> Integer.MAX_VALUE;
                default -> random.nextInt(Math.max(1, r.writableLength() + 2));
            };
            if (random.nextBoolean()) {
                r.complete(len);
            } else {
                rig.guestTasks.add(() -> r.complete(len)); // answered later, from "another thread"
            }
        }
    }

    /** Values a hostile guest likes: edges of memory, of the MMIO window, of 16 and 32 bits, and plain randoms. */
    static long edgy(SplittableRandom random, long limit) {
        return switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1 -> -1L & 0xFFFFFFFFL;
            case 2 -> limit - 1 - random.nextInt(16);
            case 3 -> limit + random.nextInt(16);
            case 4 -> VirtioRig.MMIO_BASE + random.nextInt(0x400);
            case 5 -> 0xFFFF_F000L | random.nextInt(0x1000);
            case 6 -> random.nextLong();
            case 7 -> 0x1000L * random.nextInt(VirtioRig.PAGES + 2) - random.nextInt(2);
            default -> random.nextLong(limit);
        };
    }

    /** BAR0's fields at their natural widths (virtio 1.0 common configuration, notify, ISR), then device configuration bytes. */
    static final int[][] FIELDS = {{0, 4}, {4, 4}, {8, 4}, {12, 4}, {16, 2}, {18, 2}, {20, 1}, {21, 1}, {22, 2}, {24, 2},
            {26, 2}, {28, 2}, {30, 2}, {32, 4}, {36, 4}, {40, 4}, {44, 4}, {48, 4}, {52, 4}, {56, 2}, {58, 1}};

    /** Mostly a real field at its width (so the run gets past the width check), sometimes anything. */
    static int[] field(SplittableRandom random, VirtioPciDevice d) {
        int[] sizes = {1, 2, 4};
        return switch (random.nextInt(8)) {
            case 0 -> new int[] {random.nextInt(d.barSize() + 8) - 4, sizes[random.nextInt(3)]};
            case 1, 2 -> new int[] {60 + random.nextInt(Math.max(1, d.barSize() - 60)), 1};
            default -> FIELDS[random.nextInt(FIELDS.length)];
        };
    }

    static final String[] KINDS = {"cfg-read", "cfg-write", "bar-read", "bar-write", "set-up-queue", "descriptors",
            "available", "notify", "deliver", "guest-tasks", "negotiate", "good-request", "good-request"};

    /** One random action of the guest; its kind is returned for the report. */
    static String act(Guest g, SplittableRandom random) {
        VirtioRig rig = g.rig;
        VirtioPciDevice d = g.devices[random.nextInt(g.devices.length)];
        long limit = VirtioRig.PAGES * 4096L;
        int kind = random.nextInt(KINDS.length);
        int[] sizes = {1, 2, 4};
        int size = sizes[random.nextInt(3)];
        switch (kind) {
            case 0 -> {
                rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, random.nextInt(8) == 0 ? random.nextInt()
                        : VirtioRig.address(random.nextInt(5), random.nextInt(256) & ~3));
                rig.bus.portIn(PciBus.CONFIG_DATA + random.nextInt(4), size);
            }
            case 1 -> {
                rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, VirtioRig.address(random.nextInt(5), random.nextInt(256) & ~3));
                rig.bus.portOut(PciBus.CONFIG_DATA + random.nextInt(4), size, (int) edgy(random, limit));
            }
            case 2 -> {
                int[] f = field(random, d);
                rig.bus.mmioRead((int) (d.pci().bar0() + f[0]), f[1]);
            }
            case 3 -> {
                int[] f = field(random, d);
                rig.bus.mmioWrite((int) (d.pci().bar0() + f[0]), f[1], random.nextInt(3) == 0 ? (int) edgy(random, limit)
                        : random.nextInt(0x300));
            }
            case 4 -> {
                int q = random.nextInt(4);
                if (random.nextInt(4) != 0) {
                    rig.setUpQueue(d, q);
                } else {
                    rig.setUpQueue(d, q, (int) edgy(random, limit), (int) edgy(random, limit), (int) edgy(random, limit));
                }
            }
            case 5 -> {
                int q = random.nextInt(3);
                for (int n = random.nextInt(8); n >= 0; n--) {
                    rig.descriptor(q, random.nextInt(256), edgy(random, limit),
                            random.nextInt(4) == 0 ? (int) edgy(random, limit) : random.nextInt(5000),
                            random.nextInt(8), random.nextInt(4) == 0 ? random.nextInt(0x10000) : random.nextInt(256));
                }
            }
            case 6 -> {
                int q = random.nextInt(3);
                if (random.nextInt(8) == 0) {
                    rig.memory.writeU16(VirtioRig.avail(q) + 2, random.nextInt(0x10000)); // the index jumps
                } else {
                    int[] heads = new int[1 + random.nextInt(4)];
                    for (int i = 0; i < heads.length; i++) {
                        heads[i] = random.nextInt(8) == 0 ? random.nextInt(0x10000) : random.nextInt(256);
                    }
                    rig.makeAvailable(q, heads);
                }
            }
            case 7 -> rig.notify(d, random.nextInt(32) == 0 ? random.nextInt(0x10000) : random.nextInt(d.personality().queueCount()));
            case 8 -> {
                byte[] data = new byte[random.nextInt(3000)];
                random.nextBytes(data);
                VirtioPciDevice in = random.nextBoolean() ? rig.console : g.net;
                in.deliver(0, ByteBuffer.wrap(data));
            }
            case 9 -> rig.runGuestTasks();
            case 11, 12 -> goodRequest(g, random);
            default -> rig.negotiate(d, random.nextInt(4) == 0 ? random.nextLong() : 1L << 32 | d.personality().features());
        }
        return KINDS[kind];
    }

    /**
     * What a driver does right (an enabled queue, a well-formed chain in RAM, made available, notified), so
     * that the run reaches the models and the completions; the other actions spoil it at random.
     */
    static void goodRequest(Guest g, SplittableRandom random) {
        VirtioRig rig = g.rig;
        VirtioPciDevice d = g.devices[random.nextInt(g.devices.length)];
        int q = d == g.disk ? 0 : 1;
        rig.write(d, VirtioPci.QUEUE_SELECT, 2, q);
        if (rig.read(d, VirtioPci.QUEUE_ENABLE, 2) == 0) {
            rig.setUpQueue(d, q);
        }
        int head = random.nextInt(250);
        int buffer = VirtioRig.BUFFERS + 0x1000 * random.nextInt(16);
        if (d == g.disk) {
            boolean read = random.nextBoolean();
            rig.memory.writeU32(buffer, read ? 0 : 1);
            rig.memory.writeU32(buffer + 8, random.nextInt(2100));
            rig.descriptor(q, head, buffer, 16, 1, head + 1);
            rig.descriptor(q, head + 1, buffer + 0x200, 512, 1 | (read ? 2 : 0), head + 2);
            rig.descriptor(q, head + 2, buffer + 0x400, 1, 2, 0);
        } else {
            rig.descriptor(q, head, buffer, 12 + random.nextInt(1600), 0, 0);
        }
        rig.makeAvailable(q, head);
        rig.notify(d, q);
    }

    @Test
    void everyHostileVirtioActionReturnsOrKillsTheGuestWithAReason() {
        long seed = Long.getLong("lguest.fuzz.seed", System.nanoTime());
        System.out.println("VirtioFuzzTest: seed " + seed + ", " + ACTIONS + " actions (-Dlguest.fuzz.seed=" + seed
                + " repeats this run)");
        SplittableRandom random = new SplittableRandom(seed);
        Guest g = new Guest(random.split());
        long guests = 1;
        Map<String, Long> kills = new TreeMap<>();
        for (long i = 0; i < ACTIONS; i++) {
            String kind = "?";
            try {
                kind = act(g, random);
            } catch (GuestViolationException e) {
                String reason = e.getMessage() == null ? "(no reason)" : e.getMessage();
                assertTrue(!reason.isBlank(), "a kill without a reason at action " + i + " (seed " + seed + ")");
                kills.merge(reason.replaceAll("0x[0-9a-f]+|\\d+", "N"), 1L, Long::sum);
                g = new Guest(random.split());
                guests++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("action " + i + " (" + kind + ") of seed " + seed
                        + " escaped the guest's kill path: " + e, e);
            }
        }
        System.out.printf("VirtioFuzzTest: %d actions, %d guests, %d killed, %d buffers reached a model; kills by reason:%n",
                ACTIONS, guests, guests - 1, Guest.served);
        kills.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(15)
                .forEach(e -> System.out.printf("  %6d  %s%n", e.getValue(), e.getKey()));
        assertTrue(guests > 1, "in " + ACTIONS + " hostile actions no guest was ever killed: the fuzzer does not reach the checks");
        assertTrue(Guest.served > 0, "no buffer ever reached a model: the fuzzer does not get past the rings' checks");
    }
}
