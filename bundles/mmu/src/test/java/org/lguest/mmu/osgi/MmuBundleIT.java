package org.lguest.mmu.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.felix.framework.FrameworkFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The built bundle in a real Felix with SCR: it resolves against the CPU
 * bundle, exports only its API package, and Declarative Services registers
 * a working {@code org.lguest.mmu.Mmu}. Run by Failsafe after packaging.
 */
class MmuBundleIT {
    private static final String[] BUNDLES = {"bundle.function", "bundle.promise", "bundle.component", "bundle.scr",
            "bundle.cpu", "bundle.mmu"};

    @Test
    void bundleResolvesAndDeclarativeServicesRegistersAWorkingMmu(@TempDir Path storage) throws Exception {
        Framework framework = new FrameworkFactory().newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
        try {
            BundleContext context = framework.getBundleContext();
            List<Bundle> installed = new ArrayList<>();
            for (String property : BUNDLES) {
                String file = System.getProperty(property);
                assertNotNull(file, "system property " + property + " (set by the pom) names the bundle to install");
                assertTrue(Files.isRegularFile(Path.of(file)), property + " = " + file + " is not a jar (run mvn verify)");
                installed.add(context.installBundle(Path.of(file).toUri().toString()));
            }
            for (Bundle b : installed) {
                b.start();
            }
            Bundle mmuBundle = installed.get(installed.size() - 1);
            assertEquals("org.lguest.mmu", mmuBundle.getSymbolicName());
            assertEquals(Bundle.ACTIVE, mmuBundle.getState(), "states: " + states(installed));

            List<String> exported = mmuBundle.adapt(BundleWiring.class).getCapabilities("osgi.wiring.package").stream()
                    .map(BundleCapability::getAttributes).map(a -> a.get("osgi.wiring.package") + " " + a.get("version"))
                    .toList();
            assertEquals(List.of("org.lguest.mmu 1.2.0"), exported, "only the API package, at 1.2.0");

            ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, "org.lguest.mmu.Mmu", null);
            // All services: the test's own class path also holds org.lguest.mmu.Mmu, a different class
            // from the bundle's, so the framework would hide the service from a class-checking tracker.
            tracker.open(true);
            Object mmu = tracker.waitForService(10_000);
            assertNotNull(mmu, "no Mmu service after 10 s; bundle states: " + states(installed));
            assertEquals(mmuBundle, tracker.getServiceReference().getBundle(), "registered by the mmu bundle");

            // Use it through the API as seen inside the framework.
            Class<?> mmuApi = mmuBundle.loadClass("org.lguest.mmu.Mmu");
            Class<?> builderApi = mmuBundle.loadClass("org.lguest.mmu.GuestMemoryBuilder");
            Class<?> memoryApi = mmuBundle.loadClass("org.lguest.mmu.GuestMemory");
            Object builder = mmuApi.getMethod("newGuestMemory", int.class).invoke(mmu, 16);
            Object memory = builderApi.getMethod("build").invoke(builder);
            assertEquals(16, memoryApi.getMethod("pfnLimit").invoke(memory));
            Object spt = mmuApi.getMethod("newShadowPageTables", memoryApi, int.class, int.class)
                    .invoke(mmu, memory, 0x1000, 0xC0000000);
            int shadowCr3 = (int) mmuBundle.loadClass("org.lguest.mmu.ShadowPageTables").getMethod("shadowCr3").invoke(spt);
            assertTrue(shadowCr3 >>> 12 >= 16, "the shadow directory is a host frame");
            tracker.close();
        } finally {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    private static String states(List<Bundle> bundles) {
        return bundles.stream().map(b -> b.getSymbolicName() + "=" + b.getState()).collect(Collectors.joining(", "));
    }
}
