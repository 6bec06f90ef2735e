package org.lguest.devices.disk.impl;

import org.lguest.device.block.BlockBackEnd;

/** The range check every back end makes before touching its storage. */
final class Sectors {
    private Sectors() {
    }

    /**
     * The byte offset of {@code sector}, after checking that {@code bytes}
     * from there are whole sectors inside {@code capacity} sectors.
     */
    static long check(long sector, int bytes, long capacity) {
        if (bytes % BlockBackEnd.SECTOR_SIZE != 0) {
            throw new IllegalArgumentException(bytes + " bytes is not a whole number of sectors");
        }
        long sectors = bytes / BlockBackEnd.SECTOR_SIZE;
        if (sector < 0 || sector > capacity || sectors > capacity - sector) {
            throw new IllegalArgumentException(String.format("sectors %d..%d are outside the disk's %d", sector,
                    sector + sectors - 1, capacity));
        }
        return sector * BlockBackEnd.SECTOR_SIZE;
    }
}
