/**
 * The guest ABI: lguest's DMA-era ABI of Linux 2.6.23, as numbers and
 * layouts. Everything that crosses between a guest and the host is defined
 * here once: hypercall numbers and registers, {@code struct lguest_data},
 * {@code struct lguest_dma}, the control requests, and the device page.
 * See docs/lguest-abi.md in the shared folder for the source of each fact.
 *
 * <p>1.1.0: {@link org.lguest.lg.abi.DmaSections}, the one reader and
 * checker of {@code struct lguest_dma}.
 *
 * <p>2.0.0: {@code DmaSections.views}, the sections as read-only views of
 * guest memory, in place of {@code copyOut} (no user copies them any more),
 * and a {@code DmaSections.copy} through the caller's buffer.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.1.0")
package org.lguest.lg.abi;
