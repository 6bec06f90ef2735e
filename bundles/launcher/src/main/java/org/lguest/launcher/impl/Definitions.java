package org.lguest.launcher.impl;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestDefinitions;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The guests defined as configurations ({@link GuestDefinition}), by name,
 * and the running guest each one started. One component: {@link DefinedGuest}
 * instances (one per configuration) register here; the shell starts a
 * defined guest by name; the web console through {@link GuestDefinitions}.
 */
@Component(service = {Definitions.class, GuestDefinitions.class})
public final class Definitions implements GuestDefinitions {
    private record Entry(GuestDefinition definition, Object owner, Integer guestId) {
    }

    private final Map<String, Entry> byName = new ConcurrentHashMap<>();
    private final Guests guests;

    @Activate
    public Definitions(@Reference Guests guests) {
        this.guests = guests;
    }

    /** A configuration appeared or changed; refuses a name another configuration holds. */
    synchronized void put(Object owner, GuestDefinition d) {
        Entry old = byName.get(d.name());
        if (old != null && old.owner() != owner) {
            throw new IllegalArgumentException(d.source() + ": name: '" + d.name() + "' is defined already by "
                    + old.definition().source());
        }
        Integer running = old == null ? null : old.guestId();
        for (var it = byName.entrySet().iterator(); it.hasNext();) {
            Entry e = it.next().getValue();
            if (e.owner() == owner && !e.definition().name().equals(d.name())) {
                running = e.guestId(); // renamed: the running guest stays this configuration's
                it.remove();
            }
        }
        byName.put(d.name(), new Entry(d, owner, running));
    }

    /** The configuration went away: its guest is stopped and forgotten. */
    synchronized void remove(Object owner) {
        byName.values().removeIf(e -> {
            if (e.owner() != owner) {
                return false;
            }
            if (e.guestId() != null) {
                guests.remove(e.guestId());
            }
            return true;
        });
    }

    Optional<GuestDefinition> get(String name) {
        return Optional.ofNullable(byName.get(name)).map(Entry::definition);
    }

    List<GuestDefinition> all() {
        return byName.values().stream().map(Entry::definition).sorted(java.util.Comparator.comparing(GuestDefinition::name))
                .toList();
    }

    /** GuestDefinitions: every definition, by name. */
    @Override
    public List<Definition> list() {
        return all().stream().map(d -> new Definition(d.name(), d.spec(), d.autostart(), d.source())).toList();
    }

    /** Starts the defined guest {@code name} (as its configuration says now); refuses one that runs. */
    @Override
    public synchronized Guest start(String name) throws LaunchException {
        Entry e = byName.get(name);
        if (e == null) {
            throw new LaunchException("no guest defined as '" + name + "' (lguest:define, or conf/org.lguest.guest-" + name + ".cfg)");
        }
        if (e.guestId() != null) {
            Optional<Guest> running = guests.get(e.guestId());
            if (running.isPresent() && running.get().state() == Guest.State.RUNNING) {
                throw new LaunchException("guest '" + name + "' runs already (id " + e.guestId() + ")");
            }
            guests.remove(e.guestId()); // an ended one is forgotten as it starts again
        }
        Guest g = guests.start(e.definition().spec());
        byName.put(name, new Entry(e.definition(), e.owner(), g.id()));
        return g;
    }
}
