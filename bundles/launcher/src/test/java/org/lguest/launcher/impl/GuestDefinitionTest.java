package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.lguest.launcher.DeviceSpec;

/** A guest's configuration file read as the platform reads it: keys, defaults, and errors naming file and field. */
class GuestDefinitionTest {
    static final Path DEFAULT = Path.of("/dist/kernels/lguest-guest.elf");
    static final String FILE = "file:/opt/lguest/conf/org.lguest.guest-web.cfg";

    @Test
    void theNameComesFromTheFileAndTheRestHasDefaults() {
        GuestDefinition d = GuestDefinition.parse(Map.of("felix.fileinstall.filename", FILE), DEFAULT);
        assertEquals("web", d.name());
        assertEquals("/opt/lguest/conf/org.lguest.guest-web.cfg", d.source());
        assertEquals(DEFAULT, d.kernel());
        assertEquals(64L << 20, d.memory());
        assertEquals(List.of(DeviceSpec.console("buffer")), d.devices());
        assertEquals(false, d.autostart());
    }

    @Test
    void everyKeyIsRead() {
        GuestDefinition d = GuestDefinition.parse(Map.of("felix.fileinstall.filename", FILE, "kernel", "/k/vmlinux",
                "memory", "128M", "cmdline", "autotest", "initrd", "/k/initrd", "disks", "a.img; b.img,ro", "nets",
                "lan:x", "console", "tcp:4555", "autostart", "true"), DEFAULT);
        assertEquals(Path.of("/k/vmlinux"), d.kernel());
        assertEquals(128L << 20, d.memory());
        assertEquals("autotest", d.cmdline());
        assertEquals(Path.of("/k/initrd"), d.initrd());
        assertEquals(List.of(DeviceSpec.disk("a.img"), DeviceSpec.disk("b.img,ro"), DeviceSpec.net("lan:x"),
                DeviceSpec.console("tcp:4555")), d.devices(), "disks are split at ';': 'b.img,ro' keeps its ',ro'");
        assertTrue(d.autostart());
    }

    @Test
    void aBadFieldIsNamedWithItsFile() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuestDefinition.parse(
                Map.of("felix.fileinstall.filename", FILE, "memory", "lots"), DEFAULT));
        assertEquals("/opt/lguest/conf/org.lguest.guest-web.cfg: memory: bad memory size 'lots': expected a number with K, M or G (for example 64M)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GuestDefinition.parse(
                Map.of("felix.fileinstall.filename", FILE, "autostart", "yes"), DEFAULT));
        assertTrue(e.getMessage().endsWith("org.lguest.guest-web.cfg: autostart: 'yes' (true or false)"), e.getMessage());
    }

    @Test
    void aDefinitionWrittenToAFileReadsBackTheSame() {
        GuestDefinition d = GuestDefinition.parse(Map.of("felix.fileinstall.filename", FILE, "kernel", "/k/vmlinux",
                "memory", "96M", "cmdline", "a b", "nets", "tap:t0,netns=n;lan:y", "disks", "x.img,ro", "autostart", "true"), DEFAULT);
        java.util.Properties p = new java.util.Properties();
        try {
            p.load(new java.io.StringReader(d.toFile()));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        Map<String, Object> back = new java.util.HashMap<>();
        p.forEach((k, v) -> back.put((String) k, v));
        back.put("felix.fileinstall.filename", FILE);
        assertEquals(d, GuestDefinition.parse(back, DEFAULT));
    }
}
