package org.lguest.itest;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Headless Chromium driven through chromedriver with the W3C WebDriver HTTP
 * protocol, spoken directly with {@link HttpClient} (no Selenium): start a
 * session, open a page, find elements by CSS, click, type, run a script,
 * take a screenshot. Debian's {@code chromium} and {@code chromium-driver}
 * (/usr/bin/chromium, /usr/bin/chromedriver; {@code build.sh test} installs
 * them). Chromium runs with a fresh profile and without its background
 * network traffic (the machines have no outside network).
 */
final class WebDriver implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** The W3C key for Enter. */
    static final String ENTER = "\uE007";
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

    private final Process driver;
    private final Path profile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String session;

    WebDriver() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("the browser test needs Debian's chromium and chromium-driver (" + CHROMIUM + ", "
                    + CHROMEDRIVER + "): apt-get install chromium chromium-driver (./build.sh test installs them)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        profile = Files.createTempDirectory("lguest-chromium-");
        driver = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromedriver.log").toFile()).start();
        base = "http://127.0.0.1:" + port;
        long end = System.currentTimeMillis() + 20_000;
        while (true) {
            try {
                Map<?, ?> status = (Map<?, ?>) call("GET", "/status", null);
                if (Boolean.TRUE.equals(status.get("ready"))) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.currentTimeMillis() > end) {
                driver.destroyForcibly();
                throw new AssertionError("chromedriver did not become ready in 20 s: " + Files.readString(profile.resolve("chromedriver.log")));
            }
            Thread.sleep(100);
        }
        List<String> args = List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,900", "--user-data-dir=" + profile.resolve("profile"));
        Map<String, Object> chrome = new LinkedHashMap<>();
        chrome.put("binary", CHROMIUM.toString());
        chrome.put("args", args);
        Map<String, Object> always = Map.of("browserName", "chrome", "goog:chromeOptions", chrome);
        Map<?, ?> created = (Map<?, ?>) call("POST", "/session", Map.of("capabilities", Map.of("alwaysMatch", always)));
        session = (String) created.get("sessionId");
    }

    /** One WebDriver command; returns its "value", or throws with the driver's error. */
    Object call(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.method(method, HttpRequest.BodyPublishers.ofString(MiniJson.write(body)))
                    .header("Content-Type", "application/json; charset=utf-8");
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        Object parsed = MiniJson.parse(response.body());
        Object value = parsed instanceof Map<?, ?> m ? m.get("value") : null;
        if (response.statusCode() != 200) {
            throw new IOException("WebDriver " + method + " " + path + ": HTTP " + response.statusCode() + ": " + value);
        }
        return value;
    }

    private String s(String path) {
        return "/session/" + session + path;
    }

    void open(String url) throws Exception {
        call("POST", s("/url"), Map.of("url", url));
    }

    /** The first element matching the CSS selector, waiting for it up to {@code seconds}. */
    String find(String css, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (true) {
            try {
                Map<?, ?> found = (Map<?, ?>) call("POST", s("/element"), Map.of("using", "css selector", "value", css));
                return (String) found.get(ELEMENT);
            } catch (IOException e) {
                if (System.currentTimeMillis() > end) {
                    throw new AssertionError("no element '" + css + "' within " + seconds + " s; the page says: "
                            + script("return document.body.innerText"), e);
                }
                Thread.sleep(100);
            }
        }
    }

    void click(String element) throws Exception {
        call("POST", s("/element/" + element + "/click"), Map.of());
    }

    /**
     * Clicks the element the CSS selector finds, waiting for it up to
     * {@code seconds}; found again if the page replaced it between finding
     * and clicking (a "stale element").
     */
    void clickOn(String css, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (true) {
            try {
                click(find(css, seconds));
                return;
            } catch (IOException e) {
                if (!String.valueOf(e.getMessage()).contains("stale element") || System.currentTimeMillis() > end) {
                    throw e;
                }
            }
        }
    }

    void type(String element, String text) throws Exception {
        call("POST", s("/element/" + element + "/value"), Map.of("text", text));
    }

    Object script(String js, Object... args) throws Exception {
        return call("POST", s("/execute/sync"), Map.of("script", js, "args", List.of(args)));
    }

    /** Runs {@code js} until its result passes {@code test}; returns that result. */
    Object await(String what, String js, Predicate<Object> test, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        Object last = null;
        while (System.currentTimeMillis() < end) {
            last = script(js);
            if (test.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " did not happen within " + seconds + " s; last: " + last + "\nthe page says: "
                + script("return document.body.innerText"));
    }

    /** A PNG of the window. */
    byte[] screenshot() throws Exception {
        return Base64.getDecoder().decode((String) call("GET", s("/screenshot"), null));
    }

    @Override
    public void close() throws Exception {
        try {
            call("DELETE", s(""), null); // chromedriver ends its Chromium
        } catch (IOException e) {
            // the browser is gone already
        } finally {
            driver.destroy();
            if (!driver.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                driver.destroyForcibly();
            }
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Just enough JSON for WebDriver: objects, arrays, strings, numbers, booleans, null. */
    static final class MiniJson {
        private final String text;
        private int at;

        private MiniJson(String text) {
            this.text = text;
        }

        static Object parse(String text) {
            MiniJson p = new MiniJson(text);
            Object v = p.value();
            p.space();
            if (p.at != text.length()) {
                throw new IllegalArgumentException("trailing text at " + p.at + " in " + text);
            }
            return v;
        }

        private void space() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private Object value() {
            space();
            char c = text.charAt(at);
            switch (c) {
                case '{' -> {
                    at++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    space();
                    if (text.charAt(at) == '}') {
                        at++;
                        return m;
                    }
                    while (true) {
                        space();
                        String key = string();
                        space();
                        expect(':');
                        m.put(key, value());
                        space();
                        if (text.charAt(at) == ',') {
                            at++;
                        } else {
                            expect('}');
                            return m;
                        }
                    }
                }
                case '[' -> {
                    at++;
                    List<Object> l = new ArrayList<>();
                    space();
                    if (text.charAt(at) == ']') {
                        at++;
                        return l;
                    }
                    while (true) {
                        l.add(value());
                        space();
                        if (text.charAt(at) == ',') {
                            at++;
                        } else {
                            expect(']');
                            return l;
                        }
                    }
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (text.startsWith("true", at)) {
                        at += 4;
                        return Boolean.TRUE;
                    }
                    if (text.startsWith("false", at)) {
                        at += 5;
                        return Boolean.FALSE;
                    }
                    if (text.startsWith("null", at)) {
                        at += 4;
                        return null;
                    }
                    int start = at;
                    while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                        at++;
                    }
                    String n = text.substring(start, at);
                    if (n.isEmpty()) {
                        throw new IllegalArgumentException("unexpected '" + c + "' at " + start);
                    }
                    return n.contains(".") || n.contains("e") || n.contains("E") ? (Object) Double.parseDouble(n) : (Object) Long.parseLong(n);
                }
            }
        }

        private void expect(char c) {
            if (text.charAt(at) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + at);
            }
            at++;
        }

        private String string() {
            expect('"');
            StringBuilder s = new StringBuilder();
            while (true) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return s.toString();
                }
                if (c == '\\') {
                    char e = text.charAt(at++);
                    switch (e) {
                        case 'n' -> s.append('\n');
                        case 'r' -> s.append('\r');
                        case 't' -> s.append('\t');
                        case 'b' -> s.append('\b');
                        case 'f' -> s.append('\f');
                        case 'u' -> {
                            s.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                            at += 4;
                        }
                        default -> s.append(e);
                    }
                } else {
                    s.append(c);
                }
            }
        }

        static String write(Object v) {
            StringBuilder out = new StringBuilder();
            write(v, out);
            return out.toString();
        }

        private static void write(Object v, StringBuilder out) {
            if (v == null) {
                out.append("null");
            } else if (v instanceof Map<?, ?> m) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.append(first ? "" : ",");
                    first = false;
                    write(String.valueOf(e.getKey()), out);
                    out.append(':');
                    write(e.getValue(), out);
                }
                out.append('}');
            } else if (v instanceof List<?> l) {
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    write(l.get(i), out);
                }
                out.append(']');
            } else if (v instanceof Number || v instanceof Boolean) {
                out.append(v);
            } else {
                out.append('"');
                for (char c : v.toString().toCharArray()) {
                    if (c == '"' || c == '\\') {
                        out.append('\\').append(c);
                    } else if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
                out.append('"');
            }
        }
    }
}
