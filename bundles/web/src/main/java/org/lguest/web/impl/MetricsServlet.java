package org.lguest.web.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.lguest.launcher.Guest;
import org.lguest.launcher.Guests;
import org.lguest.lg.GuestInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /metrics}: every guest's counters in the Prometheus text
 * exposition format (0.0.4), for those who watch a fleet. The counters are
 * those of {@code lguest:stats}, from the same sources: the host's
 * {@link GuestInfo} (instructions, exits, hypercalls, memory), the uptime and
 * state, and each device's counters ({@link Guest#deviceMetrics()}: the back
 * end's and the Launcher's, bytes and requests each way, swaps survived, ...).
 * Labels: {@code guest} (the name), {@code id} (names may repeat),
 * {@code device} ("console0", "block0").
 */
@Component(service = Servlet.class, property = {
    "osgi.http.whiteboard.servlet.pattern=/metrics",
    "osgi.http.whiteboard.servlet.name=lguest-metrics",
})
public final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient Guests guests;

    @Activate
    public MetricsServlet(@Reference Guests guests) {
        this.guests = guests;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.getOutputStream().write(exposition(guests.list()).getBytes(StandardCharsets.UTF_8));
    }

    /** One family: its samples, each a label set and a value. */
    private record Family(String name, String type, String help, List<String> samples) {
    }

    /** The text of the exposition format for these guests. */
    static String exposition(List<Guest> all) {
        Map<String, Family> families = new TreeMap<>();
        for (Guest g : all) {
            String labels = "guest=\"" + escape(g.spec().name()) + "\",id=\"" + g.id() + "\"";
            add(families, "lguest_guest_running", "gauge", "1 while the guest runs (paused included), 0 once it ended",
                    labels, g.state() == Guest.State.RUNNING ? 1 : 0);
            add(families, "lguest_guest_paused", "gauge", "1 while the guest is suspended", labels, g.isPaused() ? 1 : 0);
            add(families, "lguest_guest_uptime_seconds", "gauge", "time since the guest started (until it ended)",
                    labels, g.uptime().toMillis() / 1000.0);
            add(families, "lguest_guest_memory_bytes", "gauge", "guest memory", labels, g.spec().memoryBytes());
            GuestInfo info = g.info().orElse(null);
            if (info != null) {
                if (info.instructions() >= 0) {
                    add(families, "lguest_guest_cpu_instructions_total", "counter", "guest instructions the processor retired",
                            labels, info.instructions());
                }
                add(families, "lguest_guest_exits_total", "counter", "returns from the guest to the host (traps, interrupts, time slices)",
                        labels, info.exits());
                add(families, "lguest_guest_hypercalls_total", "counter", "hypercalls the guest made", labels, info.hypercalls());
            }
            g.deviceMetrics().forEach((device, counters) -> counters.forEach((counter, value) -> add(families,
                    "lguest_device_" + metricName(counter), "untyped",
                    "the device counter " + counter + " (lguest:stats, lguest:devices)",
                    labels + ",device=\"" + escape(device) + "\"", value)));
        }
        StringBuilder out = new StringBuilder();
        for (Family f : families.values()) {
            out.append("# HELP ").append(f.name()).append(' ').append(f.help().replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
            out.append("# TYPE ").append(f.name()).append(' ').append(f.type()).append('\n');
            f.samples().forEach(s -> out.append(f.name()).append(s).append('\n'));
        }
        return out.toString();
    }

    private static void add(Map<String, Family> families, String name, String type, String help, String labels, Number value) {
        families.computeIfAbsent(name, n -> new Family(n, type, help, new ArrayList<>()))
                .samples().add("{" + labels + "} " + value);
    }

    /** "console.bytesIn" → "console_bytesIn": Prometheus names are [a-zA-Z_:][a-zA-Z0-9_:]*. */
    static String metricName(String counter) {
        return counter.replaceAll("[^A-Za-z0-9_]", "_");
    }

    /** A label value: backslash, double quote and line feed escaped. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
