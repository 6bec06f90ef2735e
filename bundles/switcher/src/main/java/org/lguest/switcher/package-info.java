/**
 * The Switcher: lguest's {@code switcher.S} and {@code segments.c}. The
 * {@link org.lguest.switcher.Switcher} service attaches one
 * {@link org.lguest.switcher.SwitcherGuest} to each guest: its processor, the
 * Switcher pages at 0xFFC00000 (code, register page, read-only GDT/TSS/IDT),
 * and {@link org.lguest.switcher.SwitcherGuest#run(long)}, which enters the
 * guest at ring 1 or 3 and comes back with the trap that needs the host.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.switcher;
