package org.lguest.switcher.impl;

import java.util.Objects;

import org.lguest.cpu.CpuFactory;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherGuest;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The Switcher service: one {@link SwitcherGuestImpl} per guest over a new processor. */
@Component(service = Switcher.class)
public final class SwitcherComponent implements Switcher {
    private final CpuFactory cpus;

    @Activate
    public SwitcherComponent(@Reference(name = "cpuFactory") CpuFactory cpus) {
        this.cpus = Objects.requireNonNull(cpus, "cpus");
    }

    @Override
    public SwitcherGuest attach(GuestMemory memory, ShadowPageTables spt) {
        return new SwitcherGuestImpl(cpus, memory, spt);
    }
}
