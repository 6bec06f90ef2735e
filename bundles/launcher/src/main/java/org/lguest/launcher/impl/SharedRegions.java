package org.lguest.launcher.impl;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

import org.lguest.device.DeviceLayout;
import org.lguest.launcher.LaunchException;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.SharedRegion;

/**
 * The shared regions of this Launcher's guests, by name: what 2.6.23's
 * {@code --sharenet=FILE} did with a file every Launcher mapped, and the
 * {@code fcntl} locks by which each took a slot in it. A region is made by
 * the first device that names it and forgotten when the last one leaves;
 * each holder has a member number, the lowest free one. The Launcher owns
 * this (not a device bundle), because the region is guest-visible state: it
 * must outlive any driver's update.
 */
final class SharedRegions {

    /** One device's hold on a region. */
    record Membership(String name, SharedRegion region, int member) {
    }

    private static final class Entry {
        final SharedRegion region;
        final BitSet members = new BitSet();

        Entry(SharedRegion region) {
            this.region = region;
        }
    }

    private final Map<String, Entry> regions = new HashMap<>();

    /** Joins (making it if need be) the region {@code name} of {@code pages} frames. */
    synchronized Membership join(Mmu mmu, String name, int pages) throws LaunchException {
        Entry e = regions.get(name);
        if (e == null) {
            e = new Entry(mmu.newSharedRegion(name, pages));
            regions.put(name, e);
        } else if (e.region.pages() != pages) {
            throw new LaunchException("shared region " + name + " has " + e.region.pages() + " pages; this device wants " + pages);
        }
        int member = e.members.nextClearBit(0);
        if (member >= DeviceLayout.MAX_SHARED_MEMBERS) {
            throw new LaunchException("shared region " + name + " is full: " + DeviceLayout.MAX_SHARED_MEMBERS + " members");
        }
        e.members.set(member);
        return new Membership(name, e.region, member);
    }

    /** Leaves; the last member to leave forgets the region. Idempotent per membership. */
    synchronized void leave(Membership m) {
        Entry e = regions.get(m.name());
        if (e == null || e.region != m.region()) {
            return;
        }
        e.members.clear(m.member());
        if (e.members.isEmpty()) {
            regions.remove(m.name());
        }
    }

    /** Members of {@code name} now (0 when there is no such region). */
    synchronized int members(String name) {
        Entry e = regions.get(name);
        return e == null ? 0 : e.members.cardinality();
    }
}
