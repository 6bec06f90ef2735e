package org.lguest.devices.disk.impl;

import java.io.IOException;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.block.BlockBackEnd;
import org.lguest.device.DeviceDriver;
import org.lguest.lg.abi.DevicePage;
import org.osgi.service.component.annotations.Component;

/**
 * The block driver service: for each guest disk it opens the back end its
 * configuration names ({@code image=FILE[,ro]} or {@code image=memory:SIZE},
 * through {@link DiskImages}) and puts the model of the guest's transport in
 * front of it: lguest_block ({@link BlockDevice}) for a 2.6.23 guest, whose
 * disk has one page of device memory, the request page; virtio-blk
 * ({@link VirtioBlockDevice}) for a 4.x guest.
 */
@Component(service = DeviceDriver.class, property = DeviceDriver.TYPE + "=block")
public final class BlockDriver implements DeviceDriver {
    private final DiskImages images = new DiskImages();

    @Override
    public int deviceType() {
        return DevicePage.TYPE_BLOCK;
    }

    @Override
    public int pages() {
        return 1;
    }

    @Override
    public DeviceModel open(DeviceContext context) throws IOException {
        String spec = context.configuration().get("image");
        if (spec == null || spec.isEmpty()) {
            throw new IOException("a disk needs image=FILE[,ro] or image=memory:SIZE");
        }
        BlockBackEnd disk = images.open(spec);
        return context.transport() == DeviceContext.Transport.VIRTIO_PCI ? new VirtioBlockDevice(context, disk)
                : new BlockDevice(context, disk);
    }
}
