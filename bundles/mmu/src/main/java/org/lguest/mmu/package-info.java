/**
 * Guest-physical memory and shadow page tables: the part of lguest that
 * {@code page_tables.c} and the Launcher's memory layout play.
 *
 * <p>{@link org.lguest.mmu.Mmu} is the service. It makes a
 * {@link org.lguest.mmu.GuestMemory} per guest (the processor's physical
 * address space: guest frames below the pfn limit, a bounded pool of host
 * frames above it; every frame is given memory when first touched), {@link org.lguest.mmu.SharedRegion}s that several guest
 * memories can hold, and {@link org.lguest.mmu.ShadowPageTables} built on
 * demand from the guest's own page tables. Guest misbehaviour is reported as
 * {@link org.lguest.mmu.GuestViolationException} carrying the reason to kill
 * the guest with.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.lguest.mmu;
