package org.lguest.devices.net.impl;

import org.lguest.mmu.GuestMemory;

/**
 * The network device's page (abi §8.4): one 6-byte MAC per slot, 682 slots
 * in a page. A zero first byte is an empty slot; bit 0 of the first byte
 * (the multicast bit, never set in a real unicast MAC) says "send me
 * everything". Slot p receives at key {@code page + 4 * p}.
 */
final class PeerMap {
    static final int SLOT_SIZE = 6;
    static final int SLOTS = 4096 / SLOT_SIZE;
    static final int PROMISCUOUS = 1;

    private PeerMap() {
    }

    static int slotAddress(int page, int slot) {
        return page + SLOT_SIZE * slot;
    }

    /** The DMA key at which the peer in {@code slot} receives. */
    static int receiveKey(int page, int slot) {
        return page + 4 * slot;
    }

    static void write(GuestMemory memory, int page, int slot, byte[] mac) {
        memory.write(slotAddress(page, slot), mac, 0, SLOT_SIZE);
    }

    static void clear(GuestMemory memory, int page, int slot) {
        memory.zero(slotAddress(page, slot), SLOT_SIZE);
    }

    /** Slots holding a MAC now. */
    static int occupied(GuestMemory memory, int page) {
        byte[] map = memory.read(page, SLOTS * SLOT_SIZE);
        int n = 0;
        for (int s = 0; s < SLOTS; s++) {
            if (map[s * SLOT_SIZE] != 0) {
                n++;
            }
        }
        return n;
    }

    static byte[] read(GuestMemory memory, int page, int slot) {
        return memory.read(slotAddress(page, slot), SLOT_SIZE);
    }

    static String format(byte[] mac) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < mac.length; i++) {
            s.append(i == 0 ? "" : ":").append(String.format("%02x", mac[i] & 0xFF));
        }
        return s.toString();
    }
}
