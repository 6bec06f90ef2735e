package org.lguest.mmu;

/**
 * One entry of the small cache of shadow page directories.
 *
 * @param guestPgdir  guest-physical address of the guest page directory it shadows
 * @param shadowPgdir physical address of the shadow page directory (a host frame)
 * @param current     whether it is the one in use (what CR3 gets)
 */
public record ShadowRoot(int guestPgdir, int shadowPgdir, boolean current) {
}
