package org.lguest.devices.net.impl;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a network device is attached to, from its configuration
 * ({@code net=lan:NAME} or {@code net=tap:IFNAME[,netns=NS]}): the one
 * parser of that syntax.
 */
record NetSpec(Kind kind, String name, String netns) {
    enum Kind { LAN, TAP }

    /** Linux's interface names: 1 to 15 bytes, no '/', ':', blank or '%'; we allow the usual characters only. */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** A LAN's or a network namespace's name. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    static NetSpec parse(Map<String, String> configuration) {
        String spec = configuration.get("net");
        if (spec == null || spec.isEmpty()) {
            throw new IllegalArgumentException("a network device needs net=lan:NAME or net=tap:IFNAME[,netns=NS]");
        }
        if (spec.startsWith("lan:")) {
            String name = spec.substring(4);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("bad LAN name '" + name + "' in " + spec
                        + " (1 to 64 letters, digits, '_', '.', '-')");
            }
            return new NetSpec(Kind.LAN, name, null);
        }
        if (spec.startsWith("tap:")) {
            String[] parts = spec.substring(4).split(",", -1);
            String name = parts[0];
            if (!IFNAME.matcher(name).matches()) {
                throw new IllegalArgumentException("bad TAP interface name '" + name + "' in " + spec
                        + " (1 to 15 letters, digits, '_', '.', '-')");
            }
            String netns = null;
            for (int i = 1; i < parts.length; i++) {
                if (parts[i].startsWith("netns=") && NAME.matcher(parts[i].substring(6)).matches() && netns == null) {
                    netns = parts[i].substring(6);
                } else {
                    throw new IllegalArgumentException("bad option '" + parts[i] + "' in " + spec
                            + " (tap:IFNAME takes netns=NAME, once)");
                }
            }
            return new NetSpec(Kind.TAP, name, netns);
        }
        throw new IllegalArgumentException("unknown network attachment '" + spec + "' (lan:NAME or tap:IFNAME[,netns=NS])");
    }

    /** The shared region of a LAN: every guest naming the LAN holds it. */
    String regionName() {
        return "lan:" + name;
    }

    @Override
    public String toString() {
        return kind == Kind.LAN ? "lan:" + name : "tap:" + name + (netns == null ? "" : ",netns=" + netns);
    }
}
