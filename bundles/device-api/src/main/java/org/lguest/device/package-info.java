/**
 * The device driver contract: how a transport (the Launcher's lguest DMA
 * today, virtio-pci next) hands a guest device's requests to the bundle that
 * implements that kind of device, and how input comes back.
 *
 * <p>The Launcher keeps everything the guest can see of a device (its
 * descriptor, pages, keys, bound buffers and requests in flight); a driver
 * keeps only its back end. That split is what lets a device bundle be
 * stopped, updated and started while its guests run.
 *
 * <p>2.0.0 (from 1.0.0): {@link org.lguest.device.DeviceContext} gained the guest id,
 * slot index, guest memory, device pages and the saved state of a replaced
 * back end (its devicePages() buffer became pagesAddress/pageCount), and
 * {@code deliver} is callable from any thread;
 * {@link org.lguest.device.DeviceModel} gained metrics, saveState,
 * transcript and input (default methods).
 *
 * <p>2.1.0: a {@link org.lguest.device.DeviceDriver} declares the layout of
 * its devices ({@code pages()}, {@code features()}, {@code key()}, default methods), so the
 * Launcher lays out any type a driver serves; a
 * {@link org.lguest.device.DeviceModel} says what it is ({@code describe()}).
 *
 * <p>2.2.0: a driver lays out each device from its configuration
 * ({@link org.lguest.device.DeviceDriver#layout}, a {@link org.lguest.device.DeviceLayout}),
 * and a device's pages may be a shared region several guests hold (the
 * inter-guest LAN), with the guest's member number in
 * {@link org.lguest.device.DeviceContext#sharedMember()}.
 *
 * <p>3.0.0: the contract has its own bundle (org.lguest.device, with the
 * back-end tiers); the device a driver opens is a {@link org.lguest.device.DeviceModel}
 * (was DeviceBackEnd), and the guest's output reaches it as
 * {@link org.lguest.device.DeviceRequest}s ({@code submit}), checked, which
 * complete now or later from any thread; requests in flight when a driver
 * goes away are submitted again to its replacement.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("3.2.0")
package org.lguest.device;
