/**
 * The host module's inner services: {@link org.lguest.lg.host.ParavirtOps}
 * (the hypercall table, lguest's {@code hypercalls.c}) and
 * {@link org.lguest.lg.host.DmaRouter} (the DMA bindings and inter-guest
 * copies of {@code io.c}), both acting on a {@link org.lguest.lg.host.HostGuest}.
 * The Launcher does not need them: it uses {@link org.lguest.lg.LguestControl}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.lg.host;
