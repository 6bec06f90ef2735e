package org.lguest.launcher.impl;

import java.nio.file.Path;
import java.util.Map;

import org.lguest.launcher.LaunchException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * One guest defined as a configuration: an instance per factory
 * configuration of {@code org.lguest.guest} (a {@code conf/org.lguest.guest-NAME.cfg}
 * file). It registers the definition by name, starts the guest when
 * {@code autostart=true}, takes edits for the guest's next start, and stops
 * and forgets the guest when the configuration goes. A bad configuration
 * fails this instance alone, with an error naming the file and the field
 * (in the platform log); other guests carry on.
 */
@Component(service = {}, configurationPid = GuestDefinition.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class DefinedGuest {
    private static final System.Logger LOG = System.getLogger(DefinedGuest.class.getName());

    private final Definitions definitions;
    private final LauncherPaths paths;

    @Activate
    public DefinedGuest(@Reference Definitions definitions, @Reference LauncherPaths paths, Map<String, Object> properties) {
        this.definitions = definitions;
        this.paths = paths;
        GuestDefinition d = define(properties);
        if (d.autostart()) {
            try {
                definitions.start(d.name());
            } catch (LaunchException e) {
                LOG.log(System.Logger.Level.ERROR, "{0}: the guest {1} did not start: {2}", d.source(), d.name(), e.getMessage());
            }
        }
    }

    private GuestDefinition define(Map<String, Object> properties) {
        try {
            GuestDefinition d = GuestDefinition.parse(properties, paths.kernel());
            definitions.put(this, d);
            return d;
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "bad guest configuration: {0}", e.getMessage());
            throw e;
        }
    }

    /** An edit: applies at the guest's next start. */
    @Modified
    void modified(Map<String, Object> properties) {
        define(properties);
    }

    @Deactivate
    void deactivate() {
        definitions.remove(this);
    }
}
