package org.lguest.launcher;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The guests defined as configurations ({@code conf/org.lguest.guest-NAME.cfg},
 * factory PID {@code org.lguest.guest}), as a service: what {@code lguest:list --all}
 * shows of them and what {@code lguest:start NAME} does. The web console's
 * Guests page lists the defined guests that do not run and starts them by
 * name through it; the configuration files stay the only way to define one.
 */
@ProviderType
public interface GuestDefinitions {
    /**
     * One defined guest.
     *
     * @param name      its name (the configuration's {@code name}, else NAME of the file)
     * @param spec      what a start of it uses now (kernel, memory, command line, devices)
     * @param autostart whether it starts with the platform
     * @param source    the file (or configuration) that defines it
     */
    record Definition(String name, GuestSpec spec, boolean autostart, String source) {
    }

    /** Every guest defined now, by name. */
    List<Definition> list();

    /**
     * Starts the defined guest {@code name} as its configuration says now; an
     * ended one starts again (the ended guest is forgotten).
     *
     * @throws LaunchException when no guest is defined by that name, it runs
     *         already, or the start fails (the reason says which)
     */
    Guest start(String name) throws LaunchException;
}
