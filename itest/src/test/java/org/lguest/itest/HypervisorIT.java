package org.lguest.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.lguest.lg.GuestControl;
import org.lguest.lg.LguestControl;
import org.lguest.lg.RunResult;
import org.lguest.lg.host.DmaRouter;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.Mmu;
import org.lguest.switcher.Switcher;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The hypervisor core as Felix runs it: the Switcher, ParavirtOps, DmaRouter
 * and LguestControl services come up through Declarative Services, and a
 * guest runs through them at ring 1.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HypervisorIT {
    @Inject
    LguestControl control;

    @Inject
    Mmu mmu;

    @Inject
    Switcher switcher;

    @Inject
    @org.ops4j.pax.exam.util.Filter("(" + ParavirtOps.ABI + "=2.6.23)")
    ParavirtOps paravirtOps;

    @Inject
    @org.ops4j.pax.exam.util.Filter("(" + ParavirtOps.ABI + "=4.x)")
    ParavirtOps paravirtOps4;

    @Inject
    DmaRouter dmaRouter;

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
    public void eachAbiHasItsHypercallTableAsAService() {
        assertTrue("the 2.6.23 table", paravirtOps.abi() == org.lguest.lg.GuestAbi.LGUEST_2_6_23);
        assertTrue("the 4.x table", paravirtOps4.abi() == org.lguest.lg.GuestAbi.LGUEST_4_X);
        assertTrue("4.x has LOAD_GDT_ENTRY (18)", paravirtOps4.known(18));
        assertTrue("4.x has no SEND_DMA (14 is SET_PTE there, 17 nothing)", !paravirtOps4.known(17));
    }

    @Test
    public void theHypercallTableCoversThe2623Abi() {
        for (int call = 0; call < 17; call++) {
            assertTrue("hypercall " + call, paravirtOps.known(call));
        }
    }

    @Test
    public void aGuestRunsThroughTheServicesAndCrashesWithItsMessage() throws Exception {
        int pageOffset = 0xC0000000, pgdir = 0x100000, pt = 0x101000;
        GuestMemory m = mmu.newGuestMemory(1024).build();
        m.writeU32(pgdir + (pageOffset >>> 22) * 4, pt | 7);
        for (int n = 0; n < 1024; n++) {
            m.writeU32(pt + n * 4, n << 12 | 7);
        }
        m.write(0x7000, "hello from ring 1\0".getBytes(StandardCharsets.US_ASCII));
        // mov eax, 1; mov edx, 0x4000; int $0x1f (LGUEST_INIT)   mov eax, 2; mov edx, 0x7000; int $0x1f (CRASH)
        byte[] code = {(byte) 0xB8, 1, 0, 0, 0, (byte) 0xBA, 0, 0x40, 0, 0, (byte) 0xCD, 0x1F,
            (byte) 0xB8, 2, 0, 0, 0, (byte) 0xBA, 0, 0x70, 0, 0, (byte) 0xCD, 0x1F};
        m.write(0x1000, code);
        try (GuestControl g = control.open()) {
            g.initialize("it", m, pgdir, pageOffset + 0x1000, pageOffset);
            assertEquals(1, control.guests().size());
            assertEquals(new RunResult.Dead("CRASH: hello from ring 1"), g.run());
        }
        assertEquals(0, control.guests().size());
    }
}
