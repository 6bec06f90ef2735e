package org.lguest.launcher.impl;

import java.nio.file.Path;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;

/**
 * Where the Launcher's files are, from its configuration (Config Admin PID
 * {@code org.lguest.launcher}; the distribution ships
 * {@code conf/org.lguest.launcher.cfg}):
 * <ul>
 * <li>{@code kernel}: the guest kernel that {@code lguest:start}, {@code bin/lguest run} and a
 * guest definition without a kernel boot (the bundled guest);</li>
 * <li>{@code conf}: the folder {@code lguest:define} writes guest definitions to (FileInstall's).</li>
 * </ul>
 * Without a configuration, or for a key it leaves out, the defaults follow
 * the distribution's folder, the framework property {@code lguest.home}
 * ({@code kernels/lguest-guest.elf}, {@code conf}); the properties
 * {@code lguest.kernel} and {@code lguest.conf} are older names for the
 * same. An edit applies to the next command; nothing restarts.
 */
@Component(service = LauncherPaths.class, configurationPid = "org.lguest.launcher")
public final class LauncherPaths {
    /** The framework properties (lguest.home, ...): only for the defaults. */
    private final java.util.function.Function<String, String> properties;
    private volatile Path kernel;
    private volatile Path conf;

    @Activate
    public LauncherPaths(BundleContext context, Map<String, Object> configuration) {
        this(context::getProperty, configuration);
    }

    LauncherPaths(java.util.function.Function<String, String> properties, Map<String, ?> configuration) {
        this.properties = properties;
        apply(configuration);
    }

    /** Paths given directly (tests, and the plain-Java hosts). */
    LauncherPaths(Path kernel, Path conf) {
        this.properties = name -> null;
        this.kernel = kernel;
        this.conf = conf;
    }

    @Modified
    void apply(Map<String, ?> configuration) {
        String home = property("lguest.home");
        Path base = Path.of(home == null ? "." : home);
        kernel = Path.of(firstOf(configuration.get("kernel"), property("lguest.kernel"),
                base.resolve("kernels").resolve("lguest-guest.elf").toString()));
        conf = Path.of(firstOf(configuration.get("conf"), property("lguest.conf"), base.resolve("conf").toString()));
    }

    private String property(String name) {
        return properties.apply(name);
    }

    private static String firstOf(Object... values) {
        for (Object v : values) {
            if (v != null && !v.toString().isBlank()) {
                return v.toString().strip();
            }
        }
        throw new IllegalStateException("no value");
    }

    /** The kernel a guest boots when none is named. */
    Path kernel() {
        return kernel;
    }

    /** Where lguest:define writes guest definitions. */
    Path conf() {
        return conf;
    }
}
