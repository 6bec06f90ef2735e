package org.lguest.web.impl;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The web console's settings, read from the configuration {@code org.lguest.web}
 * ({@code conf/org.lguest.web.cfg}): where it listens and who may use it, and
 * the one rule between the two: the console listens on loopback unless told
 * otherwise, and anywhere else only behind a password.
 *
 * <ul>
 * <li>{@code host}: the bind address; default the framework property
 * {@code org.apache.felix.http.host}, else {@code 127.0.0.1};</li>
 * <li>{@code port}: default {@code org.osgi.service.http.port}, else 8080;</li>
 * <li>{@code user} (default {@code admin}) and {@code password} (default none):
 * with a password, every request needs HTTP Basic with these.</li>
 * </ul>
 *
 * A host that is not a loopback address without a password is refused:
 * {@link #refusal()} says why, and nothing is served.
 */
record WebSettings(String host, int port, String user, String password) {
    static final String PID = "org.lguest.web";
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8080;

    /**
     * Reads the configuration; framework properties give the defaults.
     *
     * @throws IllegalArgumentException for a port that is not a number from 1 to 65535
     */
    static WebSettings of(Map<String, ?> config, Function<String, String> frameworkProperty) {
        String host = text(config.get("host"));
        if (host == null) {
            host = text(frameworkProperty.apply("org.apache.felix.http.host"));
        }
        String portText = text(config.get("port"));
        if (portText == null) {
            portText = text(frameworkProperty.apply("org.osgi.service.http.port"));
        }
        int port = DEFAULT_PORT;
        if (portText != null) {
            try {
                port = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(PID + ": port: '" + portText + "' is not a port (1 to 65535)");
            }
        }
        String user = text(config.get("user"));
        return new WebSettings(host == null ? DEFAULT_HOST : host, port, user == null ? "admin" : user,
                text(config.get("password")));
    }

    private static String text(Object value) {
        if (value == null) {
            return null;
        }
        String s = value.toString().trim();
        return s.isEmpty() ? null : s;
    }

    /** Whether the bind address is a loopback one (127.0.0.0/8, ::1, localhost). */
    boolean loopback() {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    boolean passwordSet() {
        return password != null;
    }

    /** Why nothing may be served with these settings, or empty when serving is allowed. */
    Optional<String> refusal() {
        if (!loopback() && !passwordSet()) {
            return Optional.of("the web console does not listen on " + host + ":" + port + ": an address other than"
                    + " loopback needs a password (set password= in conf/" + PID + ".cfg, or host=127.0.0.1)");
        }
        return Optional.empty();
    }

    /**
     * Whether a request with this {@code Authorization} header may use the
     * console: always when no password is set (loopback), else only with
     * HTTP Basic naming the user and password (compared in constant time).
     */
    boolean admits(String authorization) {
        if (refusal().isPresent()) {
            return false;
        }
        if (!passwordSet()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(6).trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] expected = (user + ":" + password).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, decoded);
    }

    /** The address a browser opens. */
    String url() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "http://" + ("0.0.0.0".equals(host) ? "HOST" : h) + ":" + port;
    }
}
