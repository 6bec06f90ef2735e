package org.lguest.launcher.impl.virtio;

/**
 * One PCI function's 256-byte configuration space as the bus reaches it
 * through configuration mechanism #1: an access of 1, 2 or 4 bytes at an
 * offset that does not cross a dword (the bus guarantees both).
 */
interface PciFunction {

    int configRead(int offset, int size);

    void configWrite(int offset, int size, int value);
}
