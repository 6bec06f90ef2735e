package org.lguest.web.impl;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestDefinitions;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.lguest.lg.GuestInfo;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The Guests page's server side, a Servlet Whiteboard servlet at {@code /lguest/*}:
 *
 * <ul>
 * <li>{@code GET /lguest/} the page on its own ({@code /system/console/guests}
 * shows it inside the Felix Web Console), {@code /lguest/guests.js} and
 * {@code /lguest/guests.css};</li>
 * <li>{@code GET /lguest/api/guests}: every guest with its state and counters
 * (those of {@code lguest:stats}) and devices (driver bundle and version), and
 * the defined guests that do not run;</li>
 * <li>{@code GET /lguest/api/guests/ID/console}: the guest's console as
 * server-sent events: what it printed so far, then each output as it comes
 * ({@code event: output}, the text as a JSON string), and {@code event: end}
 * with the reason when the guest ends;</li>
 * <li>{@code POST /lguest/api/guests/ID/ACTION}: {@code shutdown} and
 * {@code reboot} (the guest's power button), {@code destroy},
 * {@code suspend}, {@code resume}, {@code input} (the body is typed at the
 * console); {@code POST /lguest/api/guests/ID/devices/DEVICE/update} updates
 * the bundle that drives that device ({@code Bundle.update()}, the hot swap);
 * {@code POST /lguest/api/defined/NAME/start} starts a defined guest.</li>
 * </ul>
 *
 * Everything from the browser is untrusted: ids, names and actions are
 * checked against what exists (404 for an unknown guest or device, 400 for
 * an unknown action), input is bounded, and a POST must carry the header
 * {@code X-Lguest-Action} (which a page of another site cannot send without
 * the browser asking first) and, when the browser names one, an
 * {@code Origin} of this host. Who may reach this at all is
 * {@link AccessGuard}'s business.
 */
@Component(service = Servlet.class, property = {
    "osgi.http.whiteboard.servlet.pattern=/lguest/*",
    "osgi.http.whiteboard.servlet.name=lguest-guests",
})
public final class GuestsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(GuestsServlet.class.getName());

    /** The longest input one POST may type (a pasted paragraph, not a file). */
    static final int MAX_INPUT = 4096;
    /** A comment line on an idle stream, so that proxies and Jetty's idle timeout keep it open. */
    static final long HEARTBEAT_MILLIS = 10_000;

    private static final Pattern GUEST_ACTION = Pattern.compile("/api/guests/(\\d{1,9})/([a-z]+)");
    private static final Pattern DEVICE_UPDATE = Pattern.compile("/api/guests/(\\d{1,9})/devices/([A-Za-z0-9_.-]{1,64})/update");
    private static final Pattern DEFINED_START = Pattern.compile("/api/defined/([^/]{1,128})/start");
    private static final Pattern CONSOLE = Pattern.compile("/api/guests/(\\d{1,9})/console");

    private final transient Guests guests;
    private final transient GuestDefinitions definitions;
    private final transient BundleContext context;

    @Activate
    public GuestsServlet(@Reference Guests guests, @Reference GuestDefinitions definitions, BundleContext context) {
        this.guests = guests;
        this.definitions = definitions;
        this.context = context;
    }

    /** An answer other than 200, with the reason for the page to show. */
    static final class HttpError extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        HttpError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        try {
            switch (path) {
                case "/", "/index.html" -> page(response);
                case "/guests.js" -> resource(response, "guests.js", "text/javascript;charset=utf-8");
                case "/guests.css" -> resource(response, "guests.css", "text/css;charset=utf-8");
                case "/api/guests" -> json(response, overview());
                default -> {
                    Matcher m = CONSOLE.matcher(path);
                    if (!m.matches()) {
                        throw new HttpError(HttpServletResponse.SC_NOT_FOUND, "nothing at /lguest" + path);
                    }
                    stream(guest(m.group(1)), response);
                }
            }
        } catch (HttpError e) {
            error(response, e.status, e.getMessage());
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        try {
            checkOrigin(request);
            Matcher m;
            if ((m = DEVICE_UPDATE.matcher(path)).matches()) {
                json(response, updateDriver(guest(m.group(1)), m.group(2)));
            } else if ((m = DEFINED_START.matcher(path)).matches()) {
                json(response, startDefined(m.group(1)));
            } else if ((m = GUEST_ACTION.matcher(path)).matches()) {
                json(response, act(guest(m.group(1)), m.group(2), request));
            } else {
                throw new HttpError(HttpServletResponse.SC_NOT_FOUND, "nothing to post to at /lguest" + path);
            }
        } catch (HttpError e) {
            error(response, e.status, e.getMessage());
        }
    }

    /** A POST must come from a page that could set our header, and from this host when the browser says where from. */
    static void checkOrigin(HttpServletRequest request) throws HttpError {
        if (request.getHeader("X-Lguest-Action") == null) {
            throw new HttpError(HttpServletResponse.SC_FORBIDDEN, "a POST needs the header X-Lguest-Action (the Guests page sends it)");
        }
        String origin = request.getHeader("Origin");
        String host = request.getHeader("Host");
        if (origin != null && !"null".equals(origin) && host != null
                && !origin.equals("http://" + host) && !origin.equals("https://" + host)) {
            throw new HttpError(HttpServletResponse.SC_FORBIDDEN, "a POST from another site (" + origin + ") is refused");
        }
    }

    Guest guest(String id) throws HttpError {
        return guests.get(Integer.parseInt(id))
                .orElseThrow(() -> new HttpError(HttpServletResponse.SC_NOT_FOUND, "no guest " + id));
    }

    // ---- actions ------------------------------------------------------------

    private Map<String, Object> act(Guest g, String action, HttpServletRequest request) throws HttpError, IOException {
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("id", g.id());
        switch (action) {
            case "destroy" -> guests.remove(g.id());
            case "suspend" -> {
                if (!g.suspend()) {
                    throw new HttpError(HttpServletResponse.SC_CONFLICT, "guest " + g.id() + " has ended: " + stateText(g));
                }
            }
            case "resume" -> {
                if (!g.resume()) {
                    throw new HttpError(HttpServletResponse.SC_CONFLICT, "guest " + g.id() + " is not paused: " + stateText(g));
                }
            }
            case "input" -> {
                byte[] typed = readBounded(request.getInputStream(), MAX_INPUT);
                if (typed == null) {
                    throw new HttpError(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
                            "input longer than " + MAX_INPUT + " bytes");
                }
                if (typed.length > 0 && !typeAt(g, typed)) {
                    throw new HttpError(HttpServletResponse.SC_CONFLICT, "guest " + g.id()
                            + ": its console takes no input now (no driver, or the guest ended)");
                }
                done.put("bytes", typed.length);
            }
            case "shutdown", "reboot" -> {
                // The request only (as lguest:shutdown makes it); the page sees the guest end, or not.
                String how = g.requestShutdown(action.equals("reboot")).orElseThrow(() -> new HttpError(
                        HttpServletResponse.SC_CONFLICT, "guest " + g.id() + " has ended: " + stateText(g)));
                done.put("asked", how);
            }
            default -> throw new HttpError(HttpServletResponse.SC_BAD_REQUEST, "unknown action '" + action
                    + "' (shutdown, reboot, destroy, suspend, resume, input)");
        }
        done.put("action", action);
        done.put("state", stateText(g));
        return done;
    }

    /** Output a console stream may hold for a page that does not read it. */
    static final long MAX_WAITING_BYTES = 4L << 20;

    /** How long typed input waits for a console driver (one being updated comes back within this). */
    static final long INPUT_WAIT_MILLIS = 5_000;

    /**
     * Types at the guest's console. While no driver serves it (the moment of
     * a hot swap) the input waits, up to {@link #INPUT_WAIT_MILLIS}, so a line
     * typed during an update is not lost; false when it still cannot go.
     */
    static boolean typeAt(Guest g, byte[] typed) {
        long end = System.currentTimeMillis() + INPUT_WAIT_MILLIS;
        while (!g.input("console", typed)) {
            if (g.state() != Guest.State.RUNNING || System.currentTimeMillis() > end) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private Map<String, Object> startDefined(String name) throws HttpError {
        boolean defined = definitions.list().stream().anyMatch(d -> d.name().equals(name));
        if (!defined) {
            throw new HttpError(HttpServletResponse.SC_NOT_FOUND, "no guest defined as '" + name + "'");
        }
        try {
            Guest g = definitions.start(name);
            Map<String, Object> done = new LinkedHashMap<>();
            done.put("id", g.id());
            done.put("name", g.spec().name());
            done.put("state", stateText(g));
            return done;
        } catch (LaunchException e) {
            throw new HttpError(HttpServletResponse.SC_CONFLICT, e.getMessage());
        }
    }

    /** The hot swap: {@code Bundle.update()} of the bundle that drives this guest's device. */
    private Map<String, Object> updateDriver(Guest g, String deviceName) throws HttpError {
        Guest.DeviceInfo device = g.deviceInfo().stream().filter(d -> d.name().equals(deviceName)).findFirst()
                .orElseThrow(() -> new HttpError(HttpServletResponse.SC_NOT_FOUND, "guest " + g.id() + " has no device " + deviceName));
        Bundle bundle = driverBundle(device.driver()).orElseThrow(() -> new HttpError(HttpServletResponse.SC_CONFLICT,
                deviceName + " has no driver bundle now (" + device.driver() + ")"));
        long start = System.nanoTime();
        try {
            bundle.update();
        } catch (BundleException | IllegalStateException e) {
            throw new HttpError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "update of " + bundle.getSymbolicName()
                    + " failed: " + e.getMessage());
        }
        double millis = (System.nanoTime() - start) / 1e6;
        LOG.log(System.Logger.Level.INFO, "web console: bundle {0} {1} updated for guest {2}''s {3} in {4} ms",
                bundle.getSymbolicName(), bundle.getVersion(), g.id(), deviceName, String.format("%.1f", millis));
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("bundle", bundle.getSymbolicName());
        done.put("version", bundle.getVersion().toString());
        done.put("bundleId", bundle.getBundleId());
        done.put("state", bundle.getState() == Bundle.ACTIVE ? "active" : "not active");
        done.put("millis", Math.round(millis * 10) / 10.0);
        return done;
    }

    /** The bundle a device's driver string ("org.lguest.devices.console 0.1.0.SNAPSHOT") names. */
    Optional<Bundle> driverBundle(String driver) {
        if (driver == null || driver.isBlank() || "-".equals(driver.trim())) {
            return Optional.empty();
        }
        String[] parts = driver.trim().split("\\s+");
        for (Bundle b : context.getBundles()) {
            if (parts[0].equals(b.getSymbolicName()) && (parts.length < 2 || parts[1].equals(b.getVersion().toString()))) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /** The body, or null when it is longer than {@code limit}. */
    static byte[] readBounded(InputStream in, int limit) throws IOException {
        byte[] body = in.readNBytes(limit + 1);
        return body.length > limit ? null : body;
    }

    // ---- the overview -------------------------------------------------------

    Map<String, Object> overview() {
        List<Object> running = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Guest g : guests.list()) {
            names.add(g.spec().name());
            running.add(describe(g));
        }
        List<Object> defined = new ArrayList<>();
        for (GuestDefinitions.Definition d : definitions.list()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("memory", GuestSpec.formatMemory(d.spec().memoryBytes()));
            m.put("autostart", d.autostart());
            m.put("running", names.contains(d.name()));
            defined.add(m);
        }
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("guests", running);
        all.put("defined", defined);
        return all;
    }

    private Map<String, Object> describe(Guest g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", g.id());
        m.put("name", g.spec().name());
        m.put("state", stateText(g));
        m.put("running", g.state() == Guest.State.RUNNING);
        m.put("paused", g.isPaused());
        m.put("memory", GuestSpec.formatMemory(g.spec().memoryBytes()));
        m.put("uptimeMs", g.uptime().toMillis());
        GuestInfo info = g.info().orElse(null);
        m.put("instructions", info == null ? null : info.instructions());
        m.put("exits", info == null ? null : info.exits());
        m.put("hypercalls", info == null ? null : info.hypercalls());
        List<Object> devices = new ArrayList<>();
        for (Guest.DeviceInfo d : g.deviceInfo()) {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("name", d.name());
            dm.put("backEnd", d.backEnd());
            dm.put("driver", d.driver());
            Optional<Bundle> bundle = driverBundle(d.driver());
            dm.put("bundle", bundle.map(Bundle::getSymbolicName).orElse(null));
            dm.put("version", bundle.map(b -> b.getVersion().toString()).orElse(null));
            dm.put("counters", new java.util.TreeMap<>(d.counters()));
            devices.add(dm);
        }
        m.put("devices", devices);
        return m;
    }

    /** As {@code lguest:list} says it. */
    static String stateText(Guest g) {
        return switch (g.state()) {
            case RUNNING -> g.isPaused() ? "paused" : "running";
            case POWERED_OFF -> "powered off";
            case STOPPED -> "stopped";
            case DEAD -> "dead: " + g.ending().toCompletableFuture().getNow(new Guest.End(Guest.State.DEAD, "?")).reason();
        };
    }

    // ---- the live console -----------------------------------------------------

    /**
     * Server-sent events: the transcript, then the live output (the overlap
     * dropped, {@link ConsoleStream}), until the guest ends or the browser
     * goes. Runs on the request's thread, which waits on the queue the
     * guest's thread fills.
     */
    private void stream(Guest g, HttpServletResponse response) throws IOException, HttpError {
        BlockingQueue<byte[]> printed = new LinkedBlockingQueue<>();
        // A page that stops reading must not hold the guest's output without bound: past this many
        // bytes waiting, output is dropped (and the page is told how much) until it catches up.
        java.util.concurrent.atomic.AtomicLong waiting = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
        AutoCloseable watching;
        try {
            watching = g.watch("console", b -> {
                if (waiting.addAndGet(b.length) > MAX_WAITING_BYTES) {
                    waiting.addAndGet(-b.length);
                    dropped.addAndGet(b.length);
                } else {
                    printed.add(b);
                }
            });
        } catch (IllegalArgumentException e) {
            throw new HttpError(HttpServletResponse.SC_NOT_FOUND, "guest " + g.id() + " has no console");
        }
        try {
            byte[] transcript = ConsoleStream.utf8(g.transcript("console").orElse(""));
            List<byte[]> early = new ArrayList<>();
            printed.drainTo(early);
            java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
            for (byte[] b : early) {
                joined.write(b, 0, b.length);
            }
            byte[] earlyBytes = joined.toByteArray();
            int skip = ConsoleStream.overlap(transcript, earlyBytes);

            response.setStatus(HttpServletResponse.SC_OK);
            response.setContentType("text/event-stream;charset=utf-8");
            response.setHeader("Cache-Control", "no-cache");
            response.setHeader("X-Accel-Buffering", "no");
            OutputStream out = response.getOutputStream();
            Utf8Text text = new Utf8Text();
            send(out, "output", text.decode(transcript, 0, transcript.length));
            send(out, "output", text.decode(earlyBytes, skip, earlyBytes.length - skip));
            out.flush();
            long lastWrite = System.currentTimeMillis();
            while (true) {
                boolean ended = g.state() != Guest.State.RUNNING;
                List<byte[]> chunk = new ArrayList<>();
                byte[] first = printed.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    chunk.add(first);
                    printed.drainTo(chunk);
                }
                StringBuilder s = new StringBuilder();
                for (byte[] b : chunk) {
                    waiting.addAndGet(-b.length);
                    s.append(text.decode(b, 0, b.length));
                }
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    s.append("\n[web console: ").append(lost).append(" bytes of output not shown: this page fell behind]\n");
                }
                if (!s.isEmpty()) {
                    send(out, "output", s.toString());
                    out.flush();
                    lastWrite = System.currentTimeMillis();
                }
                if (ended && printed.isEmpty()) {
                    send(out, "end", stateText(g));
                    out.flush();
                    return;
                }
                if (System.currentTimeMillis() - lastWrite > HEARTBEAT_MILLIS) {
                    out.write(":\n\n".getBytes(StandardCharsets.US_ASCII)); // the browser went? this write fails
                    out.flush();
                    lastWrite = System.currentTimeMillis();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the browser went (page closed or reloaded): the stream ends here, the guest runs on
        } finally {
            try {
                watching.close();
            } catch (Exception e) {
                // closing a watch only removes it
            }
        }
    }

    /** One event; the data is a JSON string, so line ends and anything else in it stay inside one line. */
    static void send(OutputStream out, String event, String data) throws IOException {
        if (data.isEmpty() && "output".equals(event)) {
            return;
        }
        StringBuilder s = new StringBuilder("event: ").append(event).append("\ndata: ");
        Json.string(data, s);
        s.append("\n\n");
        out.write(s.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Decodes UTF-8 as it arrives in pieces: a character split between two pieces waits for its end. */
    static final class Utf8Text {
        private final java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE);
        private java.nio.ByteBuffer pending = java.nio.ByteBuffer.allocate(0);

        String decode(byte[] b, int from, int length) {
            java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(pending.remaining() + length);
            in.put(pending).put(b, from, length).flip();
            java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(in.remaining() + 1);
            decoder.decode(in, chars, false);
            pending = in.slice();
            return chars.flip().toString();
        }
    }

    // ---- answers ----------------------------------------------------------------

    static void json(HttpServletResponse response, Object value) throws IOException {
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("application/json;charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.getOutputStream().write(Json.write(value).getBytes(StandardCharsets.UTF_8));
    }

    static void error(HttpServletResponse response, int status, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json;charset=utf-8");
        response.getOutputStream().write(Json.write(Map.of("error", message)).getBytes(StandardCharsets.UTF_8));
    }

    /** The page on its own: guests.html with the fragment the Web Console plugin shows. */
    private void page(HttpServletResponse response) throws IOException {
        String html;
        try (InputStream in = GuestsServlet.class.getResourceAsStream("/web/guests.html")) {
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        response.setContentType("text/html;charset=utf-8");
        response.setHeader("Cache-Control", "no-cache");
        response.getOutputStream().write(html.replace("<!--FRAGMENT-->", GuestsPlugin.fragment()).getBytes(StandardCharsets.UTF_8));
    }

    private void resource(HttpServletResponse response, String name, String type) throws IOException, HttpError {
        try (InputStream in = GuestsServlet.class.getResourceAsStream("/web/" + name)) {
            if (in == null) {
                throw new HttpError(HttpServletResponse.SC_NOT_FOUND, "no " + name);
            }
            response.setContentType(type);
            response.setHeader("Cache-Control", "no-cache");
            in.transferTo(response.getOutputStream());
        }
    }
}
