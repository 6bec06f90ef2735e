/**
 * The device driver contract: how the Launcher hands a guest device's I/O
 * to the bundle that implements that kind of device.
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
 * {@link org.lguest.device.DeviceBackEnd} gained metrics, saveState,
 * transcript and input (default methods).
 *
 * <p>2.1.0: a {@link org.lguest.device.DeviceDriver} declares the layout of
 * its devices ({@code pages()}, {@code features()}, {@code key()}, default methods), so the
 * Launcher lays out any type a driver serves; a
 * {@link org.lguest.device.DeviceBackEnd} says what it is ({@code describe()}).
 *
 * <p>2.2.0: a driver lays out each device from its configuration
 * ({@link org.lguest.device.DeviceDriver#layout}, a {@link org.lguest.device.DeviceLayout}),
 * and a device's pages may be a shared region several guests hold (the
 * inter-guest LAN), with the guest's member number in
 * {@link org.lguest.device.DeviceContext#sharedMember()}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.2.0")
package org.lguest.device;
