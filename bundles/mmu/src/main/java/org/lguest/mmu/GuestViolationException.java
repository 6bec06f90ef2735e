package org.lguest.mmu;

/**
 * The guest did something the host must not allow: an address outside its
 * memory, a page-table entry pointing beyond its frames, a mapping in the
 * Switcher's slot. The message is the reason to kill the guest with (lguest's
 * {@code kill_guest}); nothing was changed on the host side when it is thrown.
 *
 * <p>It is a report about the guest, not a host failure, so it carries no
 * stack trace (guests may provoke it at will; it must stay cheap).
 */
public final class GuestViolationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestViolationException(String reason) {
        super(reason, null, false, false);
    }

    /** The reason to kill the guest with. */
    public String reason() {
        return getMessage();
    }
}
