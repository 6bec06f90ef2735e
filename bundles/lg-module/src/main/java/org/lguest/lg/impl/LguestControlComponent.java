package org.lguest.lg.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import org.lguest.lg.ControlException;
import org.lguest.lg.GuestAbi;
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
@Component(service = LguestControl.class, configurationPid = "org.lguest.lg")
public final class LguestControlComponent implements LguestControl {
    final Mmu mmu;
    final Switcher switcher;
    /** The hypercall tables, one per ABI: each guest is served by its kernel's. */
    private final ParavirtOps dmaEraOps, virtioEraOps;
    final DmaRouter router;
    final ScheduledExecutorService clock;
    private final LgGuest[] slots;
    /** Instructions per time slice: the loop looks at breaks, interrupts and the clock between slices. */
    volatile long slice = 200_000;

    /** The module's configuration (PID {@code org.lguest.lg}). */
    public @interface Config {
        /** Guests that may run at once (lguest's limit is 16; each guest is a slot and an id in lguest_data.guestid, a u16). */
        int maxGuests() default ControlRequests.MAX_GUESTS;
    }

    public LguestControlComponent(Mmu mmu, Switcher switcher, ParavirtOps dmaEraOps, ParavirtOps virtioEraOps,
            DmaRouter router) {
        this(mmu, switcher, dmaEraOps, virtioEraOps, router, ControlRequests.MAX_GUESTS);
    }

    @Activate
    public LguestControlComponent(@Reference(name = "mmu") Mmu mmu, @Reference(name = "switcher") Switcher switcher,
            @Reference(name = "dmaEraOps", target = "(" + ParavirtOps.ABI + "=2.6.23)") ParavirtOps dmaEraOps,
            @Reference(name = "virtioEraOps", target = "(" + ParavirtOps.ABI + "=4.x)") ParavirtOps virtioEraOps,
            @Reference(name = "dmaRouter") DmaRouter router, Config config) {
        this(mmu, switcher, dmaEraOps, virtioEraOps, router, config.maxGuests());
    }

    /** @param maxGuests guests that may run at once, 1 to 65535 */
    public LguestControlComponent(Mmu mmu, Switcher switcher, ParavirtOps dmaEraOps, ParavirtOps virtioEraOps,
            DmaRouter router, int maxGuests) {
        if (maxGuests < 1 || maxGuests > 0xFFFF) {
            throw new IllegalArgumentException("maxGuests " + maxGuests + ": 1 to 65535 (lguest_data.guestid is a u16)");
        }
        this.slots = new LgGuest[maxGuests];
        this.mmu = Objects.requireNonNull(mmu);
        this.switcher = Objects.requireNonNull(switcher);
        this.dmaEraOps = checked(dmaEraOps, GuestAbi.LGUEST_2_6_23);
        this.virtioEraOps = checked(virtioEraOps, GuestAbi.LGUEST_4_X);
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

    private static ParavirtOps checked(ParavirtOps ops, GuestAbi abi) {
        if (Objects.requireNonNull(ops).abi() != abi) {
            throw new IllegalArgumentException("the hypercall table " + ops + " is for " + ops.abi() + ", not " + abi);
        }
        return ops;
    }

    /** The hypercall table for a guest of {@code abi}. */
    ParavirtOps opsFor(GuestAbi abi) {
        return abi == GuestAbi.LGUEST_4_X ? virtioEraOps : dmaEraOps;
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
                "all " + slots.length + " guest slots are in use");
    }

    void freeSlot(LgGuest g, int slot) {
        synchronized (slots) {
            if (slot >= 0 && slots[slot] == g) {
                slots[slot] = null;
            }
        }
    }

    @Override
    public int maxGuests() {
        return slots.length;
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
