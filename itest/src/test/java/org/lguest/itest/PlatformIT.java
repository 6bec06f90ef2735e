package org.lguest.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleWiring;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.CpuFactory;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;

/**
 * The platform as Felix runs it: every project bundle resolves and starts,
 * and the API packages are wired to the bundles that use them.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PlatformIT {
    static final List<String> PROJECT_BUNDLES = List.of(
            "org.lguest.cpu", "org.lguest.mmu", "org.lguest.switcher", "org.lguest.lg", "org.lguest.device",
            "org.lguest.devices.console", "org.lguest.devices.disk", "org.lguest.devices.net",
            "org.lguest.launcher", "org.lguest.web");

    @Inject
    BundleContext context;

    @Inject
    CpuFactory cpus;

    @Configuration
    public Option[] config() {
        List<Option> options = new ArrayList<>();
        File[] jars = new File(System.getProperty("it.bundles")).listFiles((d, n) -> n.endsWith(".jar"));
        assertNotNull("no bundles copied to it.bundles", jars);
        Arrays.sort(jars);
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        options.add(junitBundles());
        options.add(cleanCaches());
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        return options.toArray(new Option[0]);
    }

    @Test
    public void everyProjectBundleIsActive() {
        Map<String, String> states = new TreeMap<>();
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName().startsWith("org.lguest.")) {
                states.put(b.getSymbolicName(), stateName(b.getState()));
            }
        }
        for (String name : PROJECT_BUNDLES) {
            assertEquals("state of bundle " + name + " (all project bundles: " + states + ")",
                    "ACTIVE", states.get(name));
        }
    }

    @Test
    public void bundlesImportTheApiPackagesTheyUse() {
        // The device API (its own bundle) and the ABI (lg) are exported with versions,
        // and the CPU API reaches the MMU through the framework, not through a private copy.
        assertExports("org.lguest.cpu", "org.lguest.cpu");
        assertExports("org.lguest.lg", "org.lguest.lg.abi");
        assertExports("org.lguest.device", "org.lguest.device");
        assertExports("org.lguest.device", "org.lguest.device.block");
        assertExports("org.lguest.device", "org.lguest.device.net");
    }

    private void assertExports(String bsn, String pkg) {
        Bundle bundle = Arrays.stream(context.getBundles())
                .filter(b -> bsn.equals(b.getSymbolicName())).findFirst().orElse(null);
        assertNotNull("bundle " + bsn + " is installed", bundle);
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        assertNotNull("bundle " + bsn + " is resolved", wiring);
        boolean exported = wiring.getCapabilities("osgi.wiring.package").stream()
                .anyMatch(c -> pkg.equals(c.getAttributes().get("osgi.wiring.package")));
        assertTrue("bundle " + bsn + " exports package " + pkg, exported);
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.ACTIVE -> "ACTIVE";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.INSTALLED -> "INSTALLED (unresolved)";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            default -> "UNINSTALLED";
        };
    }

    @Test
    public void theCpuServiceMakesProcessorsThatRunCode() {
        byte[][] frames = new byte[16][PhysicalMemory.PAGE_SIZE];
        // mov eax, 42 ; hlt   at physical 0x1000
        byte[] code = {(byte) 0xB8, 42, 0, 0, 0, (byte) 0xF4};
        System.arraycopy(code, 0, frames[1], 0, code.length);
        PhysicalMemory memory = new PhysicalMemory() {
            @Override
            public int frameCount() {
                return frames.length;
            }

            @Override
            public byte[] frame(int pfn) {
                return frames[pfn];
            }
        };
        IoPorts noPorts = new IoPorts() {
            @Override
            public int in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, int value) {
            }
        };
        Cpu cpu = cpus.create(memory, noPorts);
        cpu.setEip(0x1000);
        CpuExit exit = cpu.run(100);
        assertEquals("the run ends at HLT", CpuExit.Reason.HALT, exit.reason());
        assertEquals("EAX after mov eax, 42", 42, cpu.reg(Cpu.EAX));
    }
}
