package org.lguest.launcher.impl;

/**
 * What a 4.x guest's port and memory-mapped I/O reach: the Launcher's
 * emulated buses. The run loop hands each {@code in}, {@code out} and
 * device-register access here (on the guest's thread) and gives a read's
 * answer back to the guest.
 */
interface GuestIo {
    /** A guest with no devices at all: ports read all ones (0x64, the keyboard controller's status, reads 1), writes go nowhere. */
    GuestIo NONE = new GuestIo() {
        @Override
        public int portIn(int port, int size) {
            return port == 0x64 ? 1 : -1;
        }

        @Override
        public void portOut(int port, int size, int value) {
        }

        @Override
        public int mmioRead(int address, int size) {
            return -1;
        }

        @Override
        public void mmioWrite(int address, int size, int value) {
        }
    };

    int portIn(int port, int size);

    void portOut(int port, int size, int value);

    int mmioRead(int address, int size);

    void mmioWrite(int address, int size, int value);
}
