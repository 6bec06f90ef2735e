package org.lguest.web.impl;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Map;

import org.apache.felix.webconsole.spi.SecurityProvider;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.servlet.whiteboard.Preprocessor;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Who may use anything the platform serves over HTTP: one check before every
 * request of every servlet context (a Servlet Whiteboard preprocessor: the
 * Guests page, its API, /metrics and the Felix Web Console alike), by the
 * rule of {@link WebSettings}:
 *
 * <ul>
 * <li>no password: only requests that arrived on a loopback address (should
 * Felix HTTP be bound elsewhere by its own configuration, nothing is served
 * there: 403 naming the missing password);</li>
 * <li>a password: HTTP Basic with the configured user and password, else 401.</li>
 * </ul>
 *
 * And against other web sites the user visits: without a password a request
 * must be addressed to a loopback name ({@code Host}: localhost, 127.x,
 * [::1]), so a page that rebinds its own DNS name to 127.0.0.1 is refused;
 * and every request that changes something (any method but GET, HEAD,
 * OPTIONS), in every context the Felix Web Console's included, is refused
 * when the browser says it comes from another origin ({@code Origin}, else
 * {@code Referer}, not this {@code Host}): a cross-site form cannot install a
 * bundle or rewrite a configuration. Clients that send neither (curl) pass.
 *
 * It is also the Web Console's security provider (ranked above the console's
 * built-in admin/admin one), so that the console asks nothing more of a
 * request this guard let through.
 */
@Component(service = {Preprocessor.class, SecurityProvider.class}, configurationPid = WebSettings.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = "service.ranking:Integer=1000")
public final class AccessGuard implements Preprocessor, SecurityProvider {
    private static final System.Logger LOG = System.getLogger(AccessGuard.class.getName());

    private final BundleContext context;
    private volatile WebSettings settings;

    @Activate
    public AccessGuard(BundleContext context, Map<String, Object> config) {
        this.context = context;
        modified(config);
    }

    @Modified
    void modified(Map<String, Object> config) {
        try {
            settings = WebSettings.of(config, context::getProperty);
        } catch (IllegalArgumentException e) {
            settings = null; // HttpEndpoint reports it; nothing is served
        }
    }

    /** As {@link #check(WebSettings, String, String)}, and the checks against other sites (see the class comment). */
    static Denial check(WebSettings settings, String localAddress, String authorization, String method, String host,
            String origin, String referer) {
        Denial first = check(settings, localAddress, authorization);
        if (first != null) {
            return first;
        }
        if (!settings.passwordSet() && !loopbackName(host)) {
            return new Denial(HttpServletResponse.SC_FORBIDDEN, "without a password the web console answers only requests"
                    + " addressed to localhost, 127.0.0.1 or [::1], not '" + host + "'");
        }
        boolean changes = !("GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method));
        if (changes && host != null) {
            String from = origin != null ? origin : referer;
            boolean same = from != null && (from.equals("http://" + host) || from.equals("https://" + host)
                    || from.startsWith("http://" + host + "/") || from.startsWith("https://" + host + "/"));
            if (from != null && !same) {
                return new Denial(HttpServletResponse.SC_FORBIDDEN, "a " + method + " from another site (" + from
                        + ") is refused");
            }
        }
        return null;
    }

    /** Whether a Host header names this machine's loopback: localhost, 127.x.y.z or [::1], with any port. */
    static boolean loopbackName(String host) {
        if (host == null) {
            return false;
        }
        String name = host.startsWith("[") ? host.substring(0, Math.max(host.indexOf(']') + 1, 1))
                : host.contains(":") ? host.substring(0, host.indexOf(':')) : host;
        name = name.toLowerCase(java.util.Locale.ROOT);
        return name.equals("localhost") || name.equals("[::1]") || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /** Null when the request may go on, else the status and message to answer with. */
    static Denial check(WebSettings settings, String localAddress, String authorization) {
        if (settings == null) {
            return new Denial(HttpServletResponse.SC_FORBIDDEN, "the web console's configuration (" + WebSettings.PID
                    + ") is bad: see the platform log");
        }
        if (settings.refusal().isPresent()) {
            return new Denial(HttpServletResponse.SC_FORBIDDEN, settings.refusal().get());
        }
        if (!settings.passwordSet()) {
            boolean local;
            try {
                local = localAddress != null && InetAddress.getByName(localAddress).isLoopbackAddress();
            } catch (IOException e) {
                local = false;
            }
            return local ? null : new Denial(HttpServletResponse.SC_FORBIDDEN, "the web console serves " + localAddress
                    + " only with a password (set password= in conf/" + WebSettings.PID + ".cfg)");
        }
        return settings.admits(authorization) ? null
                : new Denial(HttpServletResponse.SC_UNAUTHORIZED, "the web console needs its user and password");
    }

    record Denial(int status, String message) {
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        HttpServletResponse out = (HttpServletResponse) response;
        Denial denial = check(settings, http.getLocalAddr(), http.getHeader("Authorization"), http.getMethod(),
                http.getHeader("Host"), http.getHeader("Origin"), http.getHeader("Referer"));
        if (denial == null) {
            chain.doFilter(request, response);
            return;
        }
        if (denial.status() == HttpServletResponse.SC_UNAUTHORIZED) {
            out.setHeader("WWW-Authenticate", "Basic realm=\"lguest\", charset=\"UTF-8\"");
        } else {
            LOG.log(System.Logger.Level.WARNING, "refused {0} {1} from {2}: {3}", http.getMethod(), http.getRequestURI(),
                    http.getRemoteAddr(), denial.message());
        }
        out.setStatus(denial.status());
        out.setContentType("text/plain;charset=utf-8");
        out.getWriter().println(denial.message());
    }

    // ---- the Felix Web Console's security provider -------------------------

    @Override
    public Object authenticate(HttpServletRequest request, HttpServletResponse response) {
        // The preprocessor ran first: a request that reaches the console was let through.
        Denial denial = check(settings, request.getLocalAddr(), request.getHeader("Authorization"), request.getMethod(),
                request.getHeader("Host"), request.getHeader("Origin"), request.getHeader("Referer"));
        if (denial != null) {
            response.setStatus(denial.status());
            return null;
        }
        WebSettings s = settings;
        return s.passwordSet() ? s.user() : "local";
    }

    @Override
    public boolean authorize(Object user, String role) {
        return user != null;
    }

    @Override
    public void logout(HttpServletRequest request, HttpServletResponse response) {
        // HTTP Basic has no server-side session to end.
    }
}
