package org.lguest.devices.net.impl;

import java.io.IOException;
import java.util.Map;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.device.DeviceLayout;
import org.lguest.lg.abi.DevicePage;
import org.osgi.service.component.annotations.Component;

/**
 * The network driver service. Each guest network device is one page of
 * peer map (abi §8.4) attached one of two ways:
 * <ul>
 * <li>{@code lan:NAME}: the page is the shared region "lan:NAME", which
 * every guest on that LAN holds; the guest's slot is its member number, and
 * frames go from guest to guest through the hypervisor's DmaRouter without
 * coming here ({@link LanPort} only watches). As {@code --sharenet}: no
 * checksums (the frames never leave the machine).</li>
 * <li>{@code tap:IFNAME[,netns=NS]}: the page is the guest's own; slot 0 is
 * the host's TAP interface and the guest is slot 1, as {@code --tunnet}
 * ({@link NetDevice} over a {@link Tap}).</li>
 * </ul>
 */
@Component(service = DeviceDriver.class, property = DeviceDriver.TYPE + "=net")
public final class NetDriver implements DeviceDriver {
    /** The guest's slot on a TAP device's map (slot 0 is the TAP). */
    static final int TAP_GUEST_SLOT = 1;
    /** The LANs of virtio guests (2.6.23 guests' LANs are shared pages: LanPort). */
    private final LanSwitch.Registry lans = new LanSwitch.Registry();

    @Override
    public int deviceType() {
        return DevicePage.TYPE_NET;
    }

    @Override
    public DeviceLayout layout(Map<String, String> configuration) {
        NetSpec spec = NetSpec.parse(configuration);
        return switch (spec.kind()) {
            case LAN -> DeviceLayout.shared(DevicePage.TYPE_NET, DevicePage.FEATURE_NET_NOCSUM, 1, spec.regionName());
            case TAP -> DeviceLayout.of(DevicePage.TYPE_NET, DevicePage.FEATURE_RANDOMNESS | TAP_GUEST_SLOT, 1);
        };
    }

    @Override
    public DeviceModel open(DeviceContext context) throws IOException {
        NetSpec spec;
        try {
            spec = NetSpec.parse(context.configuration());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (context.transport() == DeviceContext.Transport.VIRTIO_PCI) {
            return switch (spec.kind()) {
                case LAN -> {
                    LanSwitch.Port port = lans.join(spec.name());
                    yield new VirtioNetDevice(context, port, () -> lans.leave(port));
                }
                case TAP -> new VirtioNetDevice(context, Tap.open(spec.name(), spec.netns(),
                        TapState.parse(context.savedState())), () -> { });
            };
        }
        return switch (spec.kind()) {
            case LAN -> new LanPort(context, spec);
            case TAP -> new NetDevice(context, Tap.open(spec.name(), spec.netns(), TapState.parse(context.savedState())));
        };
    }
}
