package org.lguest.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestDefinitions;
import org.lguest.launcher.Guests;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The web console in the real platform (bundles/web on Felix HTTP and the
 * Felix Web Console), driven by headless Chromium through chromedriver: the
 * Guests page starts a defined guest, shows its console as it prints, types
 * a line into it, updates the console driver's bundle while the console keeps
 * streaming (every byte once, the stream never reopened), and destroys the
 * guest; a screenshot of the page is kept with the test reports
 * ({@code target/failsafe-reports/guests-page.png}). Also over plain HTTP:
 * bad requests get clear errors, /metrics has the guest's counters, and an
 * address other than loopback is served only with a password.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class WebConsoleIT {
    @Inject
    BundleContext context;

    @Inject
    Guests guests;

    @Inject
    GuestDefinitions definitions;

    @Inject
    ConfigurationAdmin configurationAdmin;

    static final File CONF = new File(System.getProperty("java.io.tmpdir"), "lguest-web-it-conf-" + ProcessHandle.current().pid());

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Configuration
    public Option[] config() throws IOException {
        List<Option> options = new ArrayList<>();
        File[] jars = new File(System.getProperty("it.bundles")).listFiles((d, n) -> n.endsWith(".jar"));
        assertNotNull("no bundles copied to it.bundles", jars);
        Arrays.sort(jars);
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        options.add(junitBundles());
        options.add(cleanCaches());
        options.add(systemProperty("lguest.kernel").value(System.getProperty("lguest.kernel")));
        CONF.mkdirs();
        for (File left : CONF.listFiles()) {
            left.delete();
        }
        options.add(systemProperty("felix.fileinstall.dir").value(CONF.getPath()));
        options.add(systemProperty("felix.fileinstall.poll").value("100"));
        options.add(systemProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(systemProperty("lguest.conf").value(CONF.getPath()));
        // As etc/framework.properties: Felix HTTP starts off, on loopback; the web bundle switches it on. A free port.
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        options.add(systemProperty("org.osgi.service.http.port").value(Integer.toString(port)));
        options.add(systemProperty("org.apache.felix.http.host").value("127.0.0.1"));
        options.add(systemProperty("org.apache.felix.http.enable").value("false"));
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        return options.toArray(new Option[0]);
    }

    String base() {
        return "http://127.0.0.1:" + context.getProperty("org.osgi.service.http.port");
    }

    HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, boolean withPageHeader) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (withPageHeader) {
            r.header("X-Lguest-Action", "1");
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until GET path answers {@code status} (the web console listens once Felix HTTP took its configuration). */
    void awaitStatus(String path, String authorization, int status, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        String last = "";
        while (System.currentTimeMillis() < end) {
            try {
                HttpResponse<String> r = get(path, authorization);
                if (r.statusCode() == status) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("GET " + path + " did not answer " + status + " within " + seconds + " s; last: " + last);
    }

    void awaitRefused(int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < end) {
            try {
                get("/metrics", null);
            } catch (java.net.ConnectException e) {
                return;
            } catch (IOException e) {
                // a connection cut as Jetty stopped: try again
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the web console still listens on " + base() + " after " + seconds + " s");
    }

    Guest awaitGuestNamed(String name, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < end) {
            for (Guest g : guests.list()) {
                if (g.spec().name().equals(name)) {
                    return g;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no guest named " + name + " within " + seconds + " s");
    }

    static int count(String text, String part) {
        return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
    }

    Bundle installed(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst().orElseThrow();
    }

    @Test
    public void theGuestsPageStartsAGuestStreamsItsConsoleTakesInputSwapsTheConsoleBundleWithoutLosingAByteAndDestroysIt()
            throws Exception {
        Path cfg = CONF.toPath().resolve("org.lguest.guest-webtest.cfg");
        Files.writeString(cfg, "kernel=" + System.getProperty("lguest.kernel") + "\nmemory=32M\n");
        long end = System.currentTimeMillis() + 30_000;
        while (definitions.list().stream().noneMatch(d -> d.name().equals("webtest"))) {
            assertTrue("FileInstall did not define webtest within 30 s", System.currentTimeMillis() < end);
            Thread.sleep(50);
        }
        awaitStatus("/lguest/api/guests", null, 200, 30);
        long started = System.currentTimeMillis();
        try (WebDriver browser = new WebDriver()) {
            browser.open(base() + "/system/console/guests");
            // The defined guest is listed with a start button; the page starts it.
            browser.clickOn("#lguest-defined tr[data-name='webtest'] button[data-action='start']", 20);
            Guest g = awaitGuestNamed("webtest", 30);
            int id = g.id();
            String pre = "#lguest-console-" + id;
            String consoleText = "var p = document.querySelector('" + pre + "'); return p ? p.textContent : '';";
            browser.await("the guest's boot lines in the page", consoleText,
                    t -> String.valueOf(t).contains("lguest-guest: ready"), 60);
            assertTrue("the guest is listed as running", String.valueOf(browser.await("the guest's row",
                    "var r = document.querySelector('#lguest-guest-" + id + "'); return r ? r.getAttribute('data-state') : '';",
                    s -> "running".equals(s), 10)).equals("running"));

            // Typed input reaches the guest: its echo loop prints the line back.
            String input = browser.find("#lguest-input-" + id, 10);
            browser.type(input, "first-line" + WebDriver.ENTER);
            browser.await("the echo of the first line", consoleText, t -> String.valueOf(t).contains("first-line\n"), 30);

            // The hot swap from the page: update the console driver's bundle, typing while it happens.
            Bundle consoleBundle = installed("org.lguest.devices.console");
            long modifiedBefore = consoleBundle.getLastModified();
            long changesBefore = g.deviceMetrics().get("console0").get("launcher.driverChanges");
            browser.clickOn("button[data-action='update'][data-guest='" + id + "'][data-device='console0']", 10);
            browser.type(input, "during-swap" + WebDriver.ENTER);
            Object report = browser.await("the update's report",
                    "return document.getElementById('lguest-card-" + id + "').getAttribute('data-last-update');",
                    s -> s != null, 30);
            assertTrue(String.valueOf(report), String.valueOf(report).startsWith("updated org.lguest.devices.console"));
            assertTrue("the console bundle was updated", consoleBundle.getLastModified() > modifiedBefore);
            assertEquals(Bundle.ACTIVE, consoleBundle.getState());
            browser.await("the echo of the line typed during the swap", consoleText,
                    t -> String.valueOf(t).contains("during-swap\n"), 30);
            browser.type(input, "after-swap" + WebDriver.ENTER);
            browser.await("the echo of the line typed after the swap", consoleText,
                    t -> String.valueOf(t).contains("after-swap\n"), 30);
            assertTrue("the console was served by another driver: " + g.deviceMetrics().get("console0"),
                    g.deviceMetrics().get("console0").get("launcher.driverChanges") > changesBefore);

            // Every byte once: the page holds exactly what the guest printed, and its stream was never reopened.
            String page = "";
            String transcript = "";
            long until = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < until) {
                transcript = g.transcript("console").orElse("");
                page = String.valueOf(browser.script(consoleText));
                if (page.equals(transcript)) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals("the page's console is the guest's whole output, each byte once", transcript, page);
            for (String line : List.of("lguest-guest: booting lguest", "lguest-guest: ready", "first-line\n", "during-swap\n",
                    "after-swap\n")) {
                assertEquals("'" + line + "' once in\n" + page, 1, count(page, line));
            }
            assertTrue(page, page.indexOf("first-line\n") < page.indexOf("during-swap\n")
                    && page.indexOf("during-swap\n") < page.indexOf("after-swap\n"));
            assertEquals("the console's stream was opened once and kept through the swap", "1",
                    String.valueOf(browser.script("return document.querySelector('" + pre + "').getAttribute('data-opens');")));
            String devices = String.valueOf(browser.script("return document.getElementById('lguest-devices-" + id + "').textContent;"));
            assertTrue("the device's driver bundle and version are shown: " + devices,
                    devices.contains("org.lguest.devices.console") && devices.contains(consoleBundle.getVersion().toString()));

            // Untrusted input over HTTP gets clear errors; /metrics has the guest's counters.
            HttpResponse<String> r = get("/lguest/api/guests/99999/console", null);
            assertEquals(r.body(), 404, r.statusCode());
            assertTrue(r.body(), r.body().contains("no guest 99999"));
            r = post("/lguest/api/guests/" + id + "/frobnicate", true);
            assertEquals(r.body(), 400, r.statusCode());
            assertTrue(r.body(), r.body().contains("unknown action 'frobnicate'"));
            r = post("/lguest/api/guests/" + id + "/destroy", false);
            assertEquals("a POST without the page's header (another site's form) is refused: " + r.body(), 403, r.statusCode());
            r = post("/lguest/api/defined/no-such-guest/start", true);
            assertEquals(r.body(), 404, r.statusCode());
            r = post("/lguest/api/guests/" + id + "/devices/block9/update", true);
            assertEquals(r.body(), 404, r.statusCode());
            r = get("/metrics", null);
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse(""), r.headers().firstValue("Content-Type").orElse("")
                    .startsWith("text/plain; version=0.0.4"));
            String labels = "{guest=\"webtest\",id=\"" + id + "\"}";
            for (String family : List.of("lguest_guest_exits_total", "lguest_guest_hypercalls_total",
                    "lguest_guest_cpu_instructions_total", "lguest_guest_uptime_seconds")) {
                assertTrue(family + " in\n" + r.body(), r.body().lines().anyMatch(l -> l.startsWith(family + labels + " ")));
            }
            assertTrue(r.body(), r.body().lines().anyMatch(l -> l.startsWith(
                    "lguest_device_console_bytesOut{guest=\"webtest\",id=\"" + id + "\",device=\"console0\"} ")));

            // A picture of the page, kept with the test reports.
            Path reports = Path.of(System.getProperty("lguest.reports", "target/failsafe-reports"));
            Files.createDirectories(reports);
            Path png = reports.resolve("guests-page.png");
            byte[] shot = browser.screenshot();
            assertTrue("a PNG", shot.length > 1000 && shot[1] == 'P' && shot[2] == 'N' && shot[3] == 'G');
            Files.write(png, shot);
            System.out.println("WebConsoleIT: the Guests page's screenshot is " + png.toAbsolutePath());

            // Destroy from the page: the guest goes, from the platform and from the page.
            browser.clickOn("button[data-action='destroy'][data-guest='" + id + "']", 10);
            long gone = System.currentTimeMillis() + 30_000;
            while (guests.get(id).isPresent()) {
                assertTrue("guest " + id + " still listed 30 s after destroy", System.currentTimeMillis() < gone);
                Thread.sleep(50);
            }
            browser.await("the guest's row and console leaving the page",
                    "return document.querySelector('#lguest-guest-" + id + "') === null && document.querySelector('" + pre
                            + "') === null;", Boolean.TRUE::equals, 10);
            browser.await("webtest offered for a start again",
                    "return document.querySelector(\"#lguest-defined tr[data-name='webtest'] button[data-action='start']\") !== null;",
                    Boolean.TRUE::equals, 10);
        } finally {
            Files.deleteIfExists(cfg);
        }
        System.out.printf("WebConsoleIT: the browser's part took %.1f s%n", (System.currentTimeMillis() - started) / 1000.0);
    }

    @Test
    public void theShutdownButtonPressesTheGuestsPowerButtonAndItPowersOff() throws Exception {
        Guest g = guests.start(new org.lguest.launcher.GuestSpec("webdown", 32L << 20,
                Path.of(System.getProperty("lguest.kernel")), "", List.of()));
        long ready = System.currentTimeMillis() + 60_000;
        while (!g.transcript("console").orElse("").contains("lguest-guest: ready")) {
            assertTrue("the guest never got ready: " + g.transcript("console").orElse(""), System.currentTimeMillis() < ready);
            Thread.sleep(50);
        }
        awaitStatus("/lguest/api/guests", null, 200, 30);
        try (WebDriver browser = new WebDriver()) {
            browser.open(base() + "/system/console/guests");
            browser.clickOn("button[data-action='shutdown'][data-guest='" + g.id() + "']", 20);
            Guest.End end = g.ending().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(end.toString(), end.poweredOff());
            assertTrue(g.transcript("console").orElse(""), g.transcript("console").orElse("").contains("power button: powering off"));
        } finally {
            guests.remove(g.id());
        }
    }

    @Test
    public void anAddressOtherThanLoopbackIsServedOnlyWithAPasswordAndThenEveryRequestNeedsIt() throws Exception {
        awaitStatus("/metrics", null, 200, 30);
        org.osgi.service.cm.Configuration web = configurationAdmin.getConfiguration("org.lguest.web", "?");
        try {
            Hashtable<String, Object> open = new Hashtable<>(Map.of("host", "0.0.0.0",
                    "port", context.getProperty("org.osgi.service.http.port")));
            web.update(open);
            awaitRefused(30); // refused, with the reason in the log: nothing listens

            Hashtable<String, Object> locked = new Hashtable<>(open);
            locked.put("password", "pw-for-the-test");
            web.update(locked);
            String good = "Basic " + Base64.getEncoder().encodeToString("admin:pw-for-the-test".getBytes(StandardCharsets.UTF_8));
            String bad = "Basic " + Base64.getEncoder().encodeToString("admin:guess".getBytes(StandardCharsets.UTF_8));
            awaitStatus("/metrics", good, 200, 30);
            HttpResponse<String> r = get("/metrics", null);
            assertEquals(401, r.statusCode());
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
            assertEquals(401, get("/lguest/api/guests", bad).statusCode());
            assertEquals(401, get("/system/console/bundles", null).statusCode());
            // With the password, the Felix Web Console itself serves too (its own admin/admin is not asked for).
            r = get("/system/console/bundles", good);
            assertEquals(r.body(), 200, r.statusCode());
            assertTrue(r.body().contains("org.lguest.web"));
            assertEquals(200, get("/system/console/guests", good).statusCode());
        } finally {
            web.delete();
        }
        awaitStatus("/metrics", null, 200, 30); // back on loopback, open
    }
}
