package org.lguest.lg;

/** A control request refused, with the errno the 2.6.23 device would have returned. */
public final class ControlException extends RuntimeException {
    public enum Code { EINVAL, EBUSY, ENOSPC, ENOENT, EPERM }

    private final Code code;

    public ControlException(Code code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
