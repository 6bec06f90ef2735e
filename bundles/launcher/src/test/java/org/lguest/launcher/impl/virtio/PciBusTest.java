package org.lguest.launcher.impl.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** PCI configuration mechanism #1, the capability chain and BAR0 routing, as Linux 4.9's lguest guest sees them. */
class PciBusTest {
    final VirtioRig rig = new VirtioRig();

    @Test
    void slotZeroIsAHostBridgeWithTheFourXLaunchersZeroIds() {
        assertEquals(0x0000_0000, rig.cfgRead(0, 0x00, 4), "vendor/device of 00:00.0 (the 4.x Launcher left them 0)");
        assertEquals(0x0600, rig.cfgRead(0, 0x0A, 2),
                "class/subclass of 00:00.0 as pci_sanity_check reads it (a word at 0x0A) must be 0x0600, host bridge");
    }

    @Test
    void slotOneIsTheVirtioConsoleWithModernIds() {
        assertEquals(0x10431AF4, rig.cfgRead(1, 0x00, 4), "ID dword early_put_chars expects at 00:01.0");
        assertEquals(0x1AF4, rig.cfgRead(1, 0x00, 2), "vendor");
        assertEquals(0x1043, rig.cfgRead(1, 0x02, 2), "device 0x1040 + 3");
        assertEquals(1, rig.cfgRead(1, 0x08, 1), "revision 1 (non-transitional)");
        assertEquals(0x0700, rig.cfgRead(1, 0x0A, 2), "class 07/00 as the 4.x Launcher gave the console");
        assertEquals(0x0040_1AF4, rig.cfgRead(1, 0x2C, 4), "subsystem vendor 0x1AF4, subsystem id 0x40");
        assertEquals(0x10, rig.cfgRead(1, 0x06, 2) & 0x10, "status must say there is a capability list");
        assertEquals(0, rig.cfgRead(1, 0x0E, 1), "header type 0, single function");
        assertEquals(1, rig.cfgRead(1, 0x3C, 1), "interrupt line = the device's IRQ");
        assertEquals(1, rig.cfgRead(1, 0x3D, 1), "interrupt pin INTA");
    }

    @Test
    void emptySlotsOtherFunctionsAndOtherBusesReadAllOnes() {
        assertEquals(0xFFFF_FFFF, rig.cfgRead(5, 0x00, 4), "empty slot 5");
        rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, VirtioRig.address(1, 0) | 1 << 8);
        assertEquals(0xFFFF_FFFF, rig.bus.portIn(PciBus.CONFIG_DATA, 4), "function 1 of slot 1");
        rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, VirtioRig.address(1, 0) | 1 << 16);
        assertEquals(0xFFFF, rig.bus.portIn(PciBus.CONFIG_DATA, 2), "bus 1");
        rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, 1 << 11);
        assertEquals(0xFF, rig.bus.portIn(PciBus.CONFIG_DATA, 1), "enable bit clear");
    }

    @Test
    void theAddressRegisterReadsBackAsWrittenAsPciCheckType1Expects() {
        rig.bus.portOut(0xCFB, 1, 0x01);
        assertEquals(0x0100_0000, rig.bus.portIn(PciBus.CONFIG_ADDRESS, 4), "a byte write to 0xCFB changes the top byte");
        rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, 0x8000_0000);
        assertEquals(0x8000_0000, rig.bus.portIn(PciBus.CONFIG_ADDRESS, 4));
        assertEquals(0x8000, rig.bus.portIn(0xCFA, 2), "the upper word alone");
    }

    @Test
    void otherPortsReadAllOnesExceptThePs2StatusPortWhichReadsOne() {
        assertEquals(0xFF, rig.bus.portIn(0x21, 1), "PIC mask port");
        assertEquals(0xFFFF, rig.bus.portIn(0x3F8, 2));
        assertEquals(0xFFFF_FFFF, rig.bus.portIn(0x80, 4));
        assertEquals(1, rig.bus.portIn(0x64, 1), "port 0x64");
        rig.bus.portOut(0x21, 1, 0x00);
        assertEquals(0xFF, rig.bus.portIn(0x21, 1), "writes to other ports are ignored");
    }

    record Cap(int at, int cfgType, int bar, int offset, int length, int capLen) {
    }

    @Test
    void theCapabilityChainIsCommonNotifyIsrPciCfgDeviceAllInBar0() {
        List<Cap> chain = new ArrayList<>();
        for (int cap = rig.cfgRead(1, 0x34, 1); cap != 0; cap = rig.cfgRead(1, cap + 1, 1)) {
            assertEquals(0x09, rig.cfgRead(1, cap, 1), "capability at " + cap + " must be vendor-specific (0x09)");
            chain.add(new Cap(cap, rig.cfgRead(1, cap + 3, 1), rig.cfgRead(1, cap + 4, 1), rig.cfgRead(1, cap + 8, 4),
                    rig.cfgRead(1, cap + 12, 4), rig.cfgRead(1, cap + 2, 1)));
            assertTrue(chain.size() < 10, "the chain loops: " + chain);
        }
        assertEquals(List.of(
                new Cap(0x40, 1, 0, 0, 56, 16),
                new Cap(0x50, 2, 0, 56, 2, 20),
                new Cap(0x64, 3, 0, 58, 1, 16),
                new Cap(0x84, 5, 0, 0, 0, 20),
                new Cap(0x74, 4, 0, 60, 12, 16)), chain);
        assertEquals(0, rig.cfgRead(1, 0x50 + 16, 4), "notify_off_multiplier: every queue notifies at offset 56");
    }

    @Test
    void barSizingReadsBackTheSizeMaskAndAReprogrammedBarMovesTheWindow() {
        int original = rig.cfgRead(1, 0x10, 4);
        assertEquals((int) VirtioRig.MMIO_BASE, original, "the first window starts at the MMIO base");
        rig.cfgWrite(1, 0x10, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FF80, rig.cfgRead(1, 0x10, 4),
                "size mask of a 128-byte, 32-bit, non-prefetchable memory BAR (60 + 12 bytes rounded up)");
        int moved = 0x0020_0000;
        rig.cfgWrite(1, 0x10, 4, moved);
        assertEquals(moved, rig.cfgRead(1, 0x10, 4));
        assertEquals(2, rig.bus.mmioRead(moved + VirtioPci.NUM_QUEUES, 2), "num_queues at the new window");
        assertEquals(0xFFFF, rig.bus.mmioRead(original + VirtioPci.NUM_QUEUES, 2), "nothing decodes the old window");
        rig.cfgWrite(1, 0x10, 4, original);
        assertEquals(2, rig.bus.mmioRead(original + VirtioPci.NUM_QUEUES, 2), "restored");
    }

    @Test
    void windowsAreAssignedInOrderAlignedToTheirSizeAndMarkTheMmioRange() {
        VirtioPciDevice block = rig.device(new VirtioBlock(8, 0, false, r -> { }), 2);
        VirtioPciDevice net = rig.device(new VirtioNet(new byte[6], r -> { }), 3);
        assertEquals(2, rig.bus.add(block));
        assertEquals(3, rig.bus.add(net));
        assertEquals(VirtioRig.MMIO_BASE + 128, block.pci().bar0() & 0xFFFFFFFFL);
        assertEquals(VirtioRig.MMIO_BASE + 256, net.pci().bar0() & 0xFFFFFFFFL);
        assertEquals(VirtioRig.MMIO_BASE + 384, rig.bus.mmioEnd());
        assertTrue(rig.bus.isMmio((int) VirtioRig.MMIO_BASE));
        assertTrue(rig.bus.isMmio((int) VirtioRig.MMIO_BASE + 383));
        assertFalse(rig.bus.isMmio((int) VirtioRig.MMIO_BASE + 384));
        assertFalse(rig.bus.isMmio((int) VirtioRig.MMIO_BASE - 1), "RAM and device pages are not MMIO");
        assertEquals(0x1042, rig.cfgRead(2, 0x02, 2), "block at 00:02.0");
        assertEquals(0x0180, rig.cfgRead(2, 0x0A, 2), "block class 01/80");
        assertEquals(0x1041, rig.cfgRead(3, 0x02, 2), "net at 00:03.0");
        assertEquals(0x0200, rig.cfgRead(3, 0x0A, 2), "net class 02/00");
        assertEquals(1, rig.bus.mmioRead((int) VirtioRig.MMIO_BASE + 128 + VirtioPci.NUM_QUEUES, 2), "block has one queue");
    }

    @Test
    void unimplementedBarsAndTheRomReadZeroAfterSizing() {
        for (int reg = 0x14; reg <= 0x30; reg += 4) {
            if (reg == 0x28 || reg == 0x2C) {
                continue;
            }
            rig.cfgWrite(1, reg, 4, 0xFFFF_FFFF);
            assertEquals(0, rig.cfgRead(1, reg, 4), "register " + Integer.toHexString(reg) + " reads 0: the device has no such BAR or ROM");
        }
    }

    @Test
    void aPortDeviceGetsTheAccessesInsideItsRangeAsOffsets() {
        java.util.List<String> seen = new java.util.ArrayList<>();
        rig.bus.attach(0x3F8, 8, new PortDevice() {
            @Override
            public int in(int offset, int size) {
                seen.add("in " + offset + "/" + size);
                return 0x1234;
            }

            @Override
            public void out(int offset, int size, int value) {
                seen.add("out " + offset + "/" + size + "=" + Integer.toHexString(value));
            }
        });
        assertEquals(0x34, rig.bus.portIn(0x3FD, 1), "masked to the access size");
        rig.bus.portOut(0x3F8, 1, 0x141);
        assertEquals(0xFF, rig.bus.portIn(0x3F7, 1), "below the range: nobody");
        assertEquals(0xFFFF, rig.bus.portIn(0x3FF, 2), "straddling its end: nobody");
        assertEquals(java.util.List.of("in 5/1", "out 0/1=41"), seen);
    }

    @Test
    void portDevicesMayNotOverlapTheBusOrEachOther() {
        PortDevice nothing = new PortDevice() {
            @Override
            public int in(int offset, int size) {
                return 0;
            }

            @Override
            public void out(int offset, int size, int value) {
            }
        };
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> rig.bus.attach(0xCF8, 4, nothing));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> rig.bus.attach(0x60, 8, nothing));
        rig.bus.attach(0x3F8, 8, nothing);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> rig.bus.attach(0x3FC, 8, nothing));
    }
}
