package org.lguest.mmu.impl;

import java.util.Objects;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.SharedRegion;
import org.osgi.service.component.annotations.Component;

/** The MMU service. Stateless: everything it makes belongs to the caller. */
@Component(service = Mmu.class)
public final class MmuComponent implements Mmu {

    @Override
    public GuestMemoryBuilder newGuestMemory(int ramPages) {
        return new GuestMemoryBuilderImpl(ramPages);
    }

    @Override
    public SharedRegion newSharedRegion(String name, int pages) {
        return new SharedRegionImpl(name, pages);
    }

    @Override
    public ShadowPageTables newShadowPageTables(GuestMemory memory, int guestPgdir, int pageOffset) {
        Objects.requireNonNull(memory, "memory");
        if (!(memory instanceof GuestMemoryImpl impl)) {
            throw new IllegalArgumentException("guest memory was not made by this MMU: " + memory);
        }
        return new ShadowPageTablesImpl(impl, guestPgdir, pageOffset);
    }
}
