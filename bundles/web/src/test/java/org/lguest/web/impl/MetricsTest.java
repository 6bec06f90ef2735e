package org.lguest.web.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.lg.GuestInfo;

/** /metrics: each guest's lguest:stats counters in the Prometheus text format, one family per metric, labels escaped. */
class MetricsTest {
    /** A guest as the Launcher reports one: fixed counters. */
    record ListedGuest(int id, String name, Guest.State state, GuestInfo counters, Map<String, Map<String, Long>> devices)
            implements Guest {
        @Override public GuestSpec spec() { return new GuestSpec(name, 32L << 20, Path.of("k.elf"), "", List.of()); }
        @Override public Duration uptime() { return Duration.ofMillis(2500); }
        @Override public Optional<GuestInfo> info() { return Optional.ofNullable(counters); }
        @Override public CompletionStage<End> ending() { return new CompletableFuture<>(); }
        @Override public void stop() { }
        @Override public boolean suspend() { return false; }
        @Override public java.util.Optional<String> requestShutdown(boolean restart) { return java.util.Optional.empty(); }
        @Override public boolean resume() { return false; }
        @Override public boolean isPaused() { return false; }
        @Override public Optional<String> transcript(String type) { return Optional.empty(); }
        @Override public AutoCloseable watch(String type, Consumer<byte[]> sink) { return () -> { }; }
        @Override public boolean input(String type, byte[] data) { return false; }
        @Override public Map<String, Map<String, Long>> deviceMetrics() { return devices; }
        @Override public List<DeviceInfo> deviceInfo() { return List.of(); }
    }

    @Test
    void everyGuestsCountersAreSamplesLabelledWithItsNameIdAndDevice() {
        Guest web = new ListedGuest(1, "web", Guest.State.RUNNING, new GuestInfo(0, "web", "running", 32L << 20, 0, 120, 45, 9000),
                Map.of("console0", Map.of("console.bytesIn", 12L, "launcher.requests", 7L)));
        Guest db = new ListedGuest(2, "d\"b\\x", Guest.State.POWERED_OFF, new GuestInfo(1, "db", "halted", 32L << 20, 0, 3, 2, -1),
                Map.of("block0", Map.of("block.bytesWritten", 4096L)));
        String text = MetricsServlet.exposition(List.of(web, db));
        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("lguest_guest_exits_total{guest=\"web\",id=\"1\"} 120"), text);
        assertTrue(lines.contains("lguest_guest_hypercalls_total{guest=\"web\",id=\"1\"} 45"), text);
        assertTrue(lines.contains("lguest_guest_cpu_instructions_total{guest=\"web\",id=\"1\"} 9000"), text);
        assertTrue(lines.contains("lguest_guest_running{guest=\"web\",id=\"1\"} 1"), text);
        assertTrue(lines.contains("lguest_guest_running{guest=\"d\\\"b\\\\x\",id=\"2\"} 0"), "label values escaped\n" + text);
        assertTrue(lines.contains("lguest_guest_uptime_seconds{guest=\"web\",id=\"1\"} 2.5"), text);
        assertTrue(lines.contains("lguest_device_console_bytesIn{guest=\"web\",id=\"1\",device=\"console0\"} 12"), text);
        assertTrue(lines.contains("lguest_device_block_bytesWritten{guest=\"d\\\"b\\\\x\",id=\"2\",device=\"block0\"} 4096"), text);
        assertTrue(text.lines().noneMatch(l -> l.startsWith("lguest_guest_cpu_instructions_total{guest=\"d")),
                "an unknown instruction count (-1) is left out\n" + text);
        // One HELP and TYPE per family, before its samples.
        assertEquals(1, lines.stream().filter(l -> l.equals("# TYPE lguest_guest_exits_total counter")).count(), text);
        int type = lines.indexOf("# TYPE lguest_guest_exits_total counter");
        assertTrue(lines.get(type + 1).startsWith("lguest_guest_exits_total{") && lines.get(type + 2).startsWith("lguest_guest_exits_total{"), text);
        for (String l : lines) {
            assertTrue(l.startsWith("#") || l.matches("[a-zA-Z_:][a-zA-Z0-9_:]*\\{.*\\} -?[0-9.]+"), "a valid sample line: " + l);
        }
    }

    @Test
    void noGuestsIsAnEmptyExposition() {
        assertEquals("", MetricsServlet.exposition(List.of()));
    }
}
