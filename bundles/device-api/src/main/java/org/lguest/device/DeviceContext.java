package org.lguest.device;

import java.nio.ByteBuffer;
import java.util.Map;

import org.lguest.mmu.GuestMemory;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the Launcher tells a driver about one guest device, and the way
 * back into the guest. Valid until the back end opened with it is closed.
 */
@ProviderType
public interface DeviceContext {
    /** The Launcher's id of the guest (as {@code lguest:list} shows it). */
    int guestId();

    /** The guest's name, for messages. */
    String guestName();

    /** How the guest reaches its devices, which decides the request format a model serves. */
    enum Transport {
        /**
         * lguest's DMA of Linux 2.6.23: a request is one SEND_DMA to the
         * device's key, readable sections only; input is delivered into
         * buffers the guest bound at a key; a device may have pages.
         */
        LGUEST_DMA,
        /**
         * virtio 1.0 over PCI (Linux 4.x guests): a request is one buffer
         * of an output queue (readable, then device-writable parts: for a
         * disk, virtio-blk's header, data and status byte); input is
         * delivered into the buffers of an input queue, {@code key} being
         * the queue's index; no pages. A model tells the guest its
         * features and configuration with {@link #virtioConfig}.
         */
        VIRTIO_PCI
    }

    /** The transport of this device (for a driver that serves both, the model to open). */
    default Transport transport() {
        return Transport.LGUEST_DMA;
    }

    /**
     * For a device on {@link Transport#VIRTIO_PCI}: the device-type feature
     * bits this model offers (the transport adds VIRTIO_F_VERSION_1) and
     * its device configuration space as the guest reads it
     * ({@code struct virtio_blk_config}, ...), little-endian. A model calls
     * it while it opens, before the guest can see the device; a later call
     * (a replacement back end whose disk grew) changes the configuration and
     * tells the guest, while the features stay those first given (the guest
     * negotiated them). Ignored on other transports.
     */
    default void virtioConfig(long features, byte[] config) {
    }

    /** The device's slot in the device descriptor page (0..15); its IRQ is {@code index + 1}. */
    int index();

    /**
     * The device's configuration, given when the guest was started (for
     * example {@code backend=terminal} for a console, the backing file of a
     * disk). A replacement driver receives the same map.
     */
    Map<String, String> configuration();

    /** Guest-physical address of the device's own pages (0 when it has none). */
    int pagesAddress();

    /** Pages of device memory ({@code num_pages} in the descriptor). */
    int pageCount();

    /**
     * The guest's member number on the shared region that holds this
     * device's pages ({@link DeviceLayout#sharedRegion()}), or -1 when its
     * pages are private.
     */
    default int sharedMember() {
        return -1;
    }

    /** The guest's memory: every access is checked against the guest's bounds. */
    GuestMemory memory();

    /**
     * What the previous back end of this device saved when its driver went
     * away ({@link DeviceModel#saveState()}); empty for a new device.
     */
    byte[] savedState();

    /**
     * Places input for the guest into the next free buffer the guest bound
     * at {@code key} (LHREQ_GETDMA), sets its used_len and raises the
     * interrupt the guest bound it with (LHREQ_IRQ). Callable from any
     * thread: the guest's thread does the work between two runs of the
     * guest, and this call waits for it.
     *
     * @return the bytes placed (the buffer's position advances by as many;
     *         the rest is the caller's to keep), or -1 when the guest has no
     *         free buffer at {@code key} or has ended: the caller keeps the
     *         data and tries again later
     */
    int deliver(int key, ByteBuffer data);

    /**
     * What the Launcher does for this device when the guest's output for it
     * has waited longer than the Launcher's request timeout for a driver (the
     * driver went away and none came back): it writes {@code value} (u32) at
     * guest-physical {@code address}, delivers an empty buffer at
     * {@code key} (which raises the device's interrupt), drops the waiting
     * output and logs it. The block device answers "I/O error" this way
     * (result 2 in its request page). Devices that set nothing just keep
     * waiting. A later call replaces the action; it outlives the back end
     * that set it, which is the point.
     */
    default void onAbandon(int address, int value, int key) {
    }
}
