package org.lguest.lg.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import org.lguest.lg.ControlException;
import org.lguest.lg.GuestControl;
import org.lguest.lg.GuestInfo;
import org.lguest.lg.LguestControl;
import org.lguest.lg.abi.ControlRequests;
import org.lguest.lg.host.DmaRouter;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.Mmu;
import org.lguest.switcher.Switcher;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code /dev/lguest} device: guest slots, and the one clock thread
 * every guest's SET_CLOCKEVENT timer runs on.
 */
@Component(service = LguestControl.class)
public final class LguestControlComponent implements LguestControl {
    final Mmu mmu;
    final Switcher switcher;
    final ParavirtOpsImpl ops;
    final DmaRouter router;
    final ScheduledExecutorService clock;
    private final LgGuest[] slots = new LgGuest[ControlRequests.MAX_GUESTS];
    /** Instructions per time slice: the loop looks at breaks, interrupts and the clock between slices. */
    volatile long slice = 200_000;

    @Activate
    public LguestControlComponent(@Reference(name = "mmu") Mmu mmu, @Reference(name = "switcher") Switcher switcher,
            @Reference(name = "paravirtOps", target = "(component.name=org.lguest.lg.impl.ParavirtOpsImpl)") ParavirtOps ops,
            @Reference(name = "dmaRouter") DmaRouter router) {
        this.mmu = Objects.requireNonNull(mmu);
        this.switcher = Objects.requireNonNull(switcher);
        if (!(ops instanceof ParavirtOpsImpl impl)) {
            throw new IllegalArgumentException("ParavirtOps must be this bundle's: " + ops);
        }
        this.ops = impl;
        this.router = Objects.requireNonNull(router);
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "lguest-clock");
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        this.clock = ex;
    }

    @Deactivate
    public void deactivate() {
        List<LgGuest> all;
        synchronized (slots) {
            all = new ArrayList<>();
            for (LgGuest g : slots) {
                if (g != null) {
                    all.add(g);
                }
            }
        }
        for (LgGuest g : all) {
            g.kill("the lguest module was stopped");
        }
        clock.shutdownNow();
    }

    @Override
    public GuestControl open() {
        return new LgGuest(this);
    }

    int takeSlot(LgGuest g) {
        synchronized (slots) {
            for (int i = 0; i < slots.length; i++) {
                if (slots[i] == null) {
                    slots[i] = g;
                    return i;
                }
            }
        }
        throw new ControlException(ControlException.Code.ENOSPC,
                "all " + ControlRequests.MAX_GUESTS + " guest slots are in use");
    }

    void freeSlot(LgGuest g, int slot) {
        synchronized (slots) {
            if (slot >= 0 && slots[slot] == g) {
                slots[slot] = null;
            }
        }
    }

    @Override
    public List<GuestInfo> guests() {
        List<GuestInfo> out = new ArrayList<>();
        synchronized (slots) {
            for (LgGuest g : slots) {
                if (g != null) {
                    out.add(g.info());
                }
            }
        }
        return out;
    }
}
