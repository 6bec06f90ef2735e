package org.lguest.devices.net.impl;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceRequest;

/**
 * A guest's port on an inter-guest LAN. The LAN itself needs nothing from
 * this bundle: the device page is the LAN's shared region, every receive key
 * lies in it, so each send is matched by the hypervisor's DmaRouter to the
 * peer bound there and copied straight into that guest's buffer, raising
 * its interrupt (abi §7.5). An update of this bundle therefore does not
 * touch a frame in flight.
 *
 * <p>What is left here: saying what the port is (its slot, the MAC the
 * guest wrote, the peers it sees), and clearing the guest's slot when the
 * guest leaves, so that peers stop sending to it. No send reaches
 * {@link #submit}: every key of the page is shared.
 */
final class LanPort implements DeviceModel {
    private final DeviceContext context;
    private final NetSpec spec;
    private final int page;
    private final int slot;
    private volatile boolean replaced;
    private long stray;

    LanPort(DeviceContext context, NetSpec spec) throws IOException {
        this.context = context;
        this.spec = spec;
        this.page = context.pagesAddress();
        this.slot = context.sharedMember();
        if (slot < 0 || slot >= PeerMap.SLOTS) {
            throw new IOException("LAN " + spec.name() + ": the device's page is not the LAN's shared region");
        }
    }

    @Override
    public void submit(DeviceRequest request) {
        stray++; // not reachable through the DmaRouter (every key is shared); counted if it ever is
        request.complete(0);
    }

    @Override
    public String describe() {
        byte[] mac = PeerMap.read(context.memory(), page, slot);
        return "lguest_net on LAN " + spec.name() + ", slot " + slot
                + (mac[0] == 0 ? " (not opened by the guest yet)" : ", MAC " + PeerMap.format(mac));
    }

    @Override
    public java.util.Set<String> gauges() {
        return java.util.Set.of("slot", "peersOnLan");
    }

    @Override
    public Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("slot", (long) slot);
        m.put("peersOnLan", (long) PeerMap.occupied(context.memory(), page));
        m.put("strayOutputs", stray);
        return m;
    }

    @Override
    public byte[] saveState() {
        replaced = true; // a replacement takes over: the guest keeps its slot
        return new byte[0];
    }

    @Override
    public void close() {
        if (!replaced) {
            try {
                PeerMap.clear(context.memory(), page, slot); // the guest is gone: peers stop sending to it
            } catch (IllegalStateException e) {
                // its memory is closed already; the next holder of the slot overwrites it
            }
        }
    }
}
