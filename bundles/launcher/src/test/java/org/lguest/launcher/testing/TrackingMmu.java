package org.lguest.launcher.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.SharedRegion;
import org.lguest.mmu.impl.MmuComponent;

/** The real MMU, remembering every memory it built (to check that a failed start released it). */
public final class TrackingMmu implements Mmu {
    private final Mmu real = new MmuComponent();
    public final List<GuestMemory> built = new CopyOnWriteArrayList<>();

    /** Whether {@code m} was closed (its host accessors then throw IllegalStateException). */
    public static boolean isClosed(GuestMemory m) {
        try {
            m.readU8(0);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    public boolean allClosed() {
        return built.stream().allMatch(TrackingMmu::isClosed);
    }

    @Override
    public GuestMemoryBuilder newGuestMemory(int ramPages) {
        GuestMemoryBuilder b = real.newGuestMemory(ramPages);
        return new GuestMemoryBuilder() {
            @Override
            public int top() {
                return b.top();
            }

            @Override
            public int addPages(String name, int pages) {
                return b.addPages(name, pages);
            }

            @Override
            public int addShared(String name, SharedRegion region) {
                return b.addShared(name, region);
            }

            @Override
            public GuestMemoryBuilder hostFrames(int frames) {
                b.hostFrames(frames);
                return this;
            }

            @Override
            public GuestMemory build() {
                GuestMemory m = b.build();
                built.add(m);
                return m;
            }
        };
    }

    @Override
    public SharedRegion newSharedRegion(String name, int pages) {
        return real.newSharedRegion(name, pages);
    }

    @Override
    public ShadowPageTables newShadowPageTables(GuestMemory memory, int guestPgdir, int pageOffset) {
        return real.newShadowPageTables(memory, guestPgdir, pageOffset);
    }
}
