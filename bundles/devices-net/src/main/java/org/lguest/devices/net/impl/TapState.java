package org.lguest.devices.net.impl;

import java.nio.charset.StandardCharsets;

/**
 * What a TAP back end hands its replacement across an update: whether the
 * interface was made by us (and so goes when the guest does).
 */
record TapState(boolean createdHere) {
    static TapState parse(byte[] saved) {
        return new TapState("created".equals(new String(saved, StandardCharsets.US_ASCII)));
    }

    byte[] bytes() {
        return (createdHere ? "created" : "attached").getBytes(StandardCharsets.US_ASCII);
    }
}
