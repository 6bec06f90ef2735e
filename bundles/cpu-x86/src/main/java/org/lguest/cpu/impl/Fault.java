package org.lguest.cpu.impl;

/** A guest fault in flight. One preallocated instance per processor; no stack trace. */
public final class Fault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Fault() {
        super("guest fault", null, false, false);
    }
}
