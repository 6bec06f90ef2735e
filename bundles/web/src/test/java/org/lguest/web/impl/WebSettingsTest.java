package org.lguest.web.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The web console's one rule: loopback by default, anywhere else only behind a password; HTTP Basic when one is set. */
class WebSettingsTest {
    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withNothingConfiguredItListensOnLoopbackPort8080WithoutAPassword() {
        WebSettings s = WebSettings.of(Map.of(), name -> null);
        assertEquals("127.0.0.1", s.host());
        assertEquals(8080, s.port());
        assertTrue(s.loopback());
        assertTrue(s.refusal().isEmpty());
        assertTrue(s.admits(null));
    }

    @Test
    void felixHttpsFrameworkPropertiesGiveTheDefaultsAndTheConfigurationWins() {
        Map<String, String> framework = Map.of("org.osgi.service.http.port", "18080", "org.apache.felix.http.host", "localhost");
        WebSettings fromFramework = WebSettings.of(Map.of(), framework::get);
        assertEquals(18080, fromFramework.port());
        assertEquals("localhost", fromFramework.host());
        assertTrue(fromFramework.loopback());
        WebSettings configured = WebSettings.of(Map.of("port", "9000", "host", "::1"), framework::get);
        assertEquals(9000, configured.port());
        assertTrue(configured.loopback());
    }

    @Test
    void anAddressOtherThanLoopbackWithoutAPasswordIsRefusedSayingWhatToSet() {
        WebSettings s = WebSettings.of(Map.of("host", "0.0.0.0"), name -> null);
        assertFalse(s.loopback());
        String why = s.refusal().orElseThrow();
        assertTrue(why.contains("0.0.0.0:8080") && why.contains("password") && why.contains("org.lguest.web.cfg"), why);
        assertFalse(s.admits(null));
        assertFalse(s.admits(basic("admin", "")));
    }

    @Test
    void withAPasswordAnyAddressIsServedButOnlyWithTheRightUserAndPassword() {
        WebSettings s = WebSettings.of(Map.of("host", "0.0.0.0", "password", "s3cret"), name -> null);
        assertTrue(s.refusal().isEmpty());
        assertTrue(s.admits(basic("admin", "s3cret")));
        assertFalse(s.admits(basic("admin", "wrong")));
        assertFalse(s.admits(basic("root", "s3cret")));
        assertFalse(s.admits(null));
        assertFalse(s.admits("Bearer s3cret"));
        assertFalse(s.admits("Basic !!!not-base64"));
        WebSettings named = WebSettings.of(Map.of("user", "ops", "password", "pw"), name -> null);
        assertTrue(named.admits(basic("ops", "pw")));
    }

    @Test
    void aPortThatIsNotOneIsABadConfigurationNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WebSettings.of(Map.of("port", "eighty"), name -> null));
        assertTrue(e.getMessage().contains("port: 'eighty'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WebSettings.of(Map.of("port", "70000"), name -> null));
    }

    @Test
    void theGuardLetsLoopbackThroughWithoutAPasswordAndNothingElse() {
        WebSettings open = WebSettings.of(Map.of(), name -> null);
        assertNull(AccessGuard.check(open, "127.0.0.1", null));
        AccessGuard.Denial elsewhere = AccessGuard.check(open, "10.1.2.3", null);
        assertEquals(403, elsewhere.status());
        assertTrue(elsewhere.message().contains("password"), elsewhere.message());

        WebSettings locked = WebSettings.of(Map.of("password", "pw"), name -> null);
        assertEquals(401, AccessGuard.check(locked, "127.0.0.1", null).status());
        assertEquals(401, AccessGuard.check(locked, "127.0.0.1", basic("admin", "nope")).status());
        assertNull(AccessGuard.check(locked, "10.1.2.3", basic("admin", "pw")));

        assertEquals(403, AccessGuard.check(null, "127.0.0.1", null).status());
        assertEquals(403, AccessGuard.check(WebSettings.of(Map.of("host", "0.0.0.0"), n -> null), "127.0.0.1", null).status());
    }

    @Test
    void anotherSitesPageCannotChangeAnythingNorReachUsThroughARebindingName() {
        WebSettings open = WebSettings.of(Map.of(), n -> null);
        assertNull(AccessGuard.check(open, "127.0.0.1", null, "POST", "127.0.0.1:8080", "http://127.0.0.1:8080", null),
                "the page's own POST");
        assertNull(AccessGuard.check(open, "127.0.0.1", null, "POST", "localhost:8080", null, null), "curl sends no Origin");
        assertEquals(403, AccessGuard.check(open, "127.0.0.1", null, "POST", "127.0.0.1:8080", "http://evil.example", null)
                .status(), "a cross-site form POST (to /system/console/bundles, say)");
        assertEquals(403, AccessGuard.check(open, "127.0.0.1", null, "POST", "127.0.0.1:8080", null,
                "http://evil.example/page").status(), "the same told by Referer");
        assertEquals(403, AccessGuard.check(open, "127.0.0.1", null, "GET", "evil.example:8080", null, null).status(),
                "a name rebound to 127.0.0.1");
        assertNull(AccessGuard.check(open, "127.0.0.1", null, "GET", "[::1]:8080", null, null));
        assertNull(AccessGuard.check(open, "127.0.0.1", null, "GET", "127.0.0.2", null, null));
        WebSettings locked = WebSettings.of(Map.of("password", "pw", "host", "0.0.0.0"), n -> null);
        assertNull(AccessGuard.check(locked, "10.1.2.3", basic("admin", "pw"), "GET", "host.example:8080", null, null),
                "with a password any name may be used");
        assertEquals(403, AccessGuard.check(locked, "10.1.2.3", basic("admin", "pw"), "POST", "host.example:8080",
                "http://evil.example", null).status(), "but still no cross-site changes (the browser sends Basic by itself)");
    }
}
