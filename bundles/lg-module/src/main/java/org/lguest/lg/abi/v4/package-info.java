/**
 * The virtio-era guest ABI as Linux 4.9's lguest guest uses it: hypercall
 * numbers and registers, {@code struct lguest_data}, and the boot
 * parameters the Launcher fills. The facts come from the shared
 * docs/linux-4.9-guest.md, which was checked against that kernel's source;
 * where it and lguest-abi.md §11 differ, it is right (there is no
 * {@code pgdir} field, for one).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.lguest.lg.abi.v4;
