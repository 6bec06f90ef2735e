/**
 * The host module's inner services: {@link org.lguest.lg.host.ParavirtOps}
 * (a hypercall table per ABI, lguest's {@code hypercalls.c}) and
 * {@link org.lguest.lg.host.DmaRouter} (the DMA bindings and inter-guest
 * copies of {@code io.c}), both acting on a {@link org.lguest.lg.host.HostGuest}
 * ({@code struct lguest}: 2.0 gave it the state the hypercalls keep, so a
 * table needs nothing of the module's implementation).
 * The Launcher does not need them: it uses {@link org.lguest.lg.LguestControl}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.0.0")
package org.lguest.lg.host;
