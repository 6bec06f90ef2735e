package org.lguest.web.impl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.webconsole.servlet.AbstractServlet;
import org.osgi.service.component.annotations.Component;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The "Guests" tab of the Apache Felix Web Console
 * ({@code /system/console/guests}, category lguest): a Web Console plugin
 * (a servlet service with {@code felix.webconsole.label}) whose content is
 * the Guests page's fragment ({@code web/guests-fragment.html}); the page's
 * script ({@code /lguest/guests.js}) talks to {@link GuestsServlet}, so the
 * same page also stands alone at {@code /lguest/}.
 */
@Component(service = Servlet.class, property = {
    "felix.webconsole.label=guests",
    "felix.webconsole.title=Guests",
    "felix.webconsole.category=lguest",
})
public final class GuestsPlugin extends AbstractServlet {
    private static final long serialVersionUID = 1L;

    @Override
    public void renderContent(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.getWriter().write(fragment());
    }

    static String fragment() throws IOException {
        try (InputStream in = GuestsPlugin.class.getResourceAsStream("/web/guests-fragment.html")) {
            if (in == null) {
                throw new IOException("the bundle has no web/guests-fragment.html");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
