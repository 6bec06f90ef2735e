package org.lguest.lg.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.lguest.lg.abi.DmaSections;
import org.lguest.lg.abi.LguestDma;
import org.lguest.lg.host.DmaRouter;
import org.lguest.lg.host.HostGuest;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.SharedAddress;
import org.osgi.service.component.annotations.Component;

/** io.c: bindings of every guest, one lock for all routing. */
@Component(service = DmaRouter.class)
public final class DmaRouterImpl implements DmaRouter {

    /** One bound array of receive buffers. */
    private static final class Binding {
        final HostGuest owner;
        final int key;
        final SharedAddress shared;
        final int dmas;
        final int count;
        final int irq;
        int next;

        Binding(HostGuest owner, int key, SharedAddress shared, int dmas, int count, int irq) {
            this.owner = owner;
            this.key = key;
            this.shared = shared;
            this.dmas = dmas;
            this.count = count;
            this.irq = irq;
        }
    }

    private final List<Binding> bindings = new ArrayList<>();
    /** What every inter-guest copy goes through (under this router's lock). */
    private final byte[] copyBuffer = new byte[LguestDma.MAX_SECTION_LENGTH];

    private static void checkKey(HostGuest g, int key) {
        if ((key & 3) != 0 || !g.memory().isValid(key, 4)) {
            throw new GuestViolationException(String.format("bad DMA key 0x%08x", key));
        }
    }

    @Override
    public int bind(HostGuest guest, int key, int dmas, int countAndIrq) {
        int irq = countAndIrq & 0xFF;
        int count = countAndIrq >>> 8 & 0xFFFF; // stored as u16, as 2.6.23
        if (irq >= 32) {
            return 0;
        }
        checkKey(guest, key);
        Optional<SharedAddress> shared = guest.memory().sharedAddress(key);
        synchronized (this) {
            if (irq == 0) {
                for (int i = 0; i < bindings.size(); i++) {
                    Binding b = bindings.get(i);
                    if (b.owner == guest && b.key == key && b.dmas == dmas) {
                        bindings.remove(i);
                        return 1;
                    }
                }
                return 0;
            }
            if (bindings(guest) >= LguestDma.MAX_BINDINGS) {
                return 0;
            }
            // Stricter than 2.6.23, which looked only when a buffer was used: the
            // whole array must lie in guest memory, or the guest dies now with
            // the reason, rather than leaving input stuck behind a buffer the
            // host may never touch.
            if (!guest.memory().isValid(dmas, count * LguestDma.SIZE)) {
                throw new GuestViolationException(String.format(
                        "bad DMA buffers: BIND_DMA of %d lguest_dma at 0x%08x reaches outside guest memory", count, dmas));
            }
            bindings.add(new Binding(guest, key, shared.orElse(null), dmas, count, irq));
            return 1;
        }
    }

    @Override
    public boolean send(HostGuest guest, int key, int dma) {
        checkKey(guest, key);
        guest.memory().check(dma, LguestDma.SIZE);
        Optional<SharedAddress> shared = guest.memory().sharedAddress(key);
        if (shared.isEmpty()) {
            return false;
        }
        synchronized (this) {
            for (Binding b : bindings) {
                if (b.owner != guest && !b.owner.isDead() && shared.get().equals(b.shared)) {
                    transfer(guest, dma, b);
                    return true;
                }
            }
        }
        return true; // nobody bound: the sender's used_len stays as it was (0)
    }

    /** ABI §7.5: source faults kill the source (thrown), destination faults kill the destination. */
    private void transfer(HostGuest src, int dma, Binding b) {
        DmaSections from = DmaSections.read(src.memory(), dma);
        HostGuest dst = b.owner;
        GuestMemory dm = dst.memory();
        try {
            int found = -1;
            for (int i = 0; i < b.count; i++) {
                int idx = (b.next + i) % b.count;
                int at = b.dmas + idx * LguestDma.SIZE;
                if (dm.readU32(at + LguestDma.USED_LEN) == 0) {
                    found = idx;
                    break;
                }
            }
            if (found >= 0) {
                int at = b.dmas + found * LguestDma.SIZE;
                DmaSections to = DmaSections.read(dm, at);
                int copied = DmaSections.copy(src.memory(), from, dm, to, copyBuffer);
                src.memory().writeU32(dma + LguestDma.USED_LEN, copied);
                dm.writeU32(at + LguestDma.USED_LEN, copied);
                b.next = found + 1;
            }
        } catch (GuestViolationException e) {
            dst.kill(e.reason());
            return;
        }
        dst.raiseInterrupt(b.irq); // always: even a receiver with no free buffer learns it should restock
    }

    @Override
    public synchronized int getDma(HostGuest guest, int key) {
        for (Binding b : bindings) {
            if (b.owner != guest || b.key != key) {
                continue;
            }
            GuestMemory m = guest.memory();
            for (int i = 0; i < b.count; i++) {
                int at = b.dmas + i * LguestDma.SIZE;
                if (!m.isValid(at, LguestDma.SIZE)) {
                    break;
                }
                if (m.readU32(at + LguestDma.USED_LEN) == 0) {
                    m.writeU32(at + LguestDma.USED_LEN, b.irq);
                    return at;
                }
            }
        }
        return -1;
    }

    @Override
    public synchronized void unbindAll(HostGuest guest) {
        bindings.removeIf(b -> b.owner == guest);
    }

    @Override
    public synchronized int bindings(HostGuest guest) {
        int n = 0;
        for (Binding b : bindings) {
            if (b.owner == guest) {
                n++;
            }
        }
        return n;
    }
}
