package org.lguest.web.impl;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Objects;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * Where the web console listens: turns the configuration {@code org.lguest.web}
 * ({@link WebSettings}) into Felix HTTP's own configuration
 * ({@code org.apache.felix.http}: host, port, HTTP on or off), so that
 * Jetty binds only where the rule allows. With a refused setting (an address
 * other than loopback and no password) HTTP is switched off and the platform
 * log says why; the framework property {@code lguest.web=off} (what
 * {@code bin/lguest run} sets: one guest on a terminal needs no web console)
 * switches it off silently.
 *
 * <p>Felix HTTP starts with the framework properties of
 * {@code etc/framework.properties} ({@code org.apache.felix.http.enable=false},
 * loopback), so nothing listens before this component has decided.
 */
@Component(service = {}, configurationPid = WebSettings.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class HttpEndpoint {
    private static final System.Logger LOG = System.getLogger(HttpEndpoint.class.getName());
    static final String FELIX_HTTP_PID = "org.apache.felix.http";

    private final ConfigurationAdmin configurationAdmin;
    private final BundleContext context;

    @Activate
    public HttpEndpoint(@Reference ConfigurationAdmin configurationAdmin, BundleContext context, Map<String, Object> config)
            throws IOException {
        this.configurationAdmin = configurationAdmin;
        this.context = context;
        apply(config);
    }

    @Modified
    void modified(Map<String, Object> config) throws IOException {
        apply(config);
    }

    private void apply(Map<String, Object> config) throws IOException {
        boolean off = "off".equalsIgnoreCase(String.valueOf(context.getProperty("lguest.web")).trim());
        WebSettings settings;
        try {
            settings = WebSettings.of(config, context::getProperty);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "bad web console configuration: {0}; the web console is off", e.getMessage());
            write(WebSettings.DEFAULT_HOST, WebSettings.DEFAULT_PORT, false);
            return;
        }
        if (off) {
            write(settings.host(), settings.port(), false);
            return;
        }
        if (settings.refusal().isPresent()) {
            LOG.log(System.Logger.Level.ERROR, settings.refusal().get());
            write(WebSettings.DEFAULT_HOST, settings.port(), false);
            return;
        }
        write(settings.host(), settings.port(), true);
        LOG.log(System.Logger.Level.INFO, "web console at {0}/system/console/guests{1}, metrics at {0}/metrics",
                settings.url(), settings.passwordSet() ? " (HTTP Basic, user " + settings.user() + ")" : "");
    }

    /** Writes Felix HTTP's configuration when it differs (each change restarts Jetty). */
    private void write(String host, int port, boolean enabled) throws IOException {
        Configuration felix = configurationAdmin.getConfiguration(FELIX_HTTP_PID, "?");
        Dictionary<String, Object> now = felix.getProperties();
        Dictionary<String, Object> wanted = new Hashtable<>();
        wanted.put("org.apache.felix.http.host", host);
        wanted.put("org.osgi.service.http.port", Integer.toString(port));
        wanted.put("org.apache.felix.http.enable", Boolean.toString(enabled));
        wanted.put("org.apache.felix.https.enable", "false");
        if (now != null && same(now, wanted)) {
            return;
        }
        felix.update(wanted);
    }

    private static boolean same(Dictionary<String, Object> now, Dictionary<String, Object> wanted) {
        for (var keys = wanted.keys(); keys.hasMoreElements();) {
            String key = keys.nextElement();
            if (!Objects.equals(String.valueOf(now.get(key)), String.valueOf(wanted.get(key)))) {
                return false;
            }
        }
        return true;
    }
}
