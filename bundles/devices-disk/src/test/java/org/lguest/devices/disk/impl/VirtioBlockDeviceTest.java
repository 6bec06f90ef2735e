package org.lguest.devices.disk.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestMemory;

/**
 * The virtio-blk model: its configuration as the guest reads it, and each
 * request type answered in the buffer's writable part with the status byte
 * last; requests that do not fit the disk are I/O errors, not kills.
 */
class VirtioBlockDeviceTest {
    static final int SECTORS = 64;
    final MemoryBlockBackEnd disk = new MemoryBlockBackEnd(SECTORS * 512L);
    long features = -1;
    byte[] config;

    final DeviceContext context = new DeviceContext() {
        @Override
        public int guestId() {
            return 1;
        }

        @Override
        public String guestName() {
            return "vm";
        }

        @Override
        public int index() {
            return 2;
        }

        @Override
        public Map<String, String> configuration() {
            return Map.of();
        }

        @Override
        public int pagesAddress() {
            return 0;
        }

        @Override
        public int pageCount() {
            return 0;
        }

        @Override
        public GuestMemory memory() {
            throw new AssertionError("a virtio model reaches the guest through its requests");
        }

        @Override
        public byte[] savedState() {
            return new byte[0];
        }

        @Override
        public int deliver(int key, ByteBuffer data) {
            throw new AssertionError("a disk has no input queue");
        }

        @Override
        public Transport transport() {
            return Transport.VIRTIO_PCI;
        }

        @Override
        public void virtioConfig(long f, byte[] c) {
            features = f;
            config = c.clone();
        }
    };

    VirtioBlockDevice model;

    @AfterEach
    void close() throws IOException {
        if (model != null) {
            model.close();
        }
    }

    /** A virtio buffer: readable bytes, then {@code writable} bytes of room; records what the device wrote. */
    static final class Buffer implements DeviceRequest {
        final byte[] readable;
        final byte[] writable;
        int used = -1;

        Buffer(byte[] readable, int writable) {
            this.readable = readable;
            this.writable = new byte[writable];
            Arrays.fill(this.writable, (byte) 0x77);
        }

        @Override
        public int queue() {
            return 0;
        }

        @Override
        public ByteBuffer[] readable() {
            return new ByteBuffer[] {ByteBuffer.wrap(readable).asReadOnlyBuffer()};
        }

        @Override
        public int readableLength() {
            return readable.length;
        }

        @Override
        public int writableLength() {
            return writable.length;
        }

        @Override
        public int write(int offset, ByteBuffer data) {
            int n = Math.min(data.remaining(), writable.length - offset);
            data.get(writable, offset, n);
            return n;
        }

        @Override
        public void complete(int usedLen) {
            used = usedLen;
        }

        @Override
        public boolean isComplete() {
            return used >= 0;
        }

        int status() {
            return writable[writable.length - 1];
        }
    }

    static byte[] header(int type, long sector, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(0).putLong(sector).put(data);
        return b.array();
    }

    void open() {
        model = new VirtioBlockDevice(context, disk);
    }

    Buffer submitted(Buffer b) {
        model.submit(b);
        assertTrue(b.isComplete(), "answered");
        return b;
    }

    @Test
    void theConfigurationGivesTheCapacitySegmentsAndBlockSizeAndTheFeaturesIncludeFlush() {
        open();
        ByteBuffer c = ByteBuffer.wrap(config).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(SECTORS, c.getLong(0), "capacity in sectors");
        assertEquals(254, c.getInt(12), "seg_max");
        assertEquals(512, c.getInt(20), "blk_size");
        assertEquals(1L << 2 | 1L << 6 | 1L << 9, features, "SEG_MAX, BLK_SIZE, FLUSH; not RO");
    }

    @Test
    void aWriteThenAReadOfTheSameSectorsGivesTheDataBack() {
        open();
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 'd');
        Buffer w = submitted(new Buffer(header(VirtioBlockDevice.T_OUT, 3, data), 1));
        assertEquals(0, w.status());
        assertEquals(1, w.used, "a write hands back only the status byte");
        Buffer r = submitted(new Buffer(header(VirtioBlockDevice.T_IN, 3, new byte[0]), 1024 + 1));
        assertEquals(0, r.status());
        assertEquals(1025, r.used, "data and status");
        assertArrayEquals(data, Arrays.copyOf(r.writable, 1024));
    }

    @Test
    void aReadPastTheEndIsAnIoErrorAndTheDiskIsUntouched() {
        open();
        Buffer r = submitted(new Buffer(header(VirtioBlockDevice.T_IN, SECTORS - 1, new byte[0]), 1024 + 1));
        assertEquals(VirtioBlockDevice.S_IOERR, r.status());
        assertEquals(1, r.used);
        Buffer odd = submitted(new Buffer(header(VirtioBlockDevice.T_OUT, 0, new byte[100]), 1));
        assertEquals(VirtioBlockDevice.S_IOERR, odd.status(), "not whole sectors");
    }

    @Test
    void aFlushReachesTheBackEndAndAnUnknownTypeIsUnsupported() {
        open();
        assertEquals(0, submitted(new Buffer(header(VirtioBlockDevice.T_FLUSH, 0, new byte[0]), 1)).status());
        assertEquals(1L, model.metrics().get("flushes"));
        assertEquals(VirtioBlockDevice.S_UNSUPP, submitted(new Buffer(header(99, 0, new byte[0]), 1)).status());
    }

    @Test
    void getIdNamesTheGuestAndTheSlot() {
        open();
        Buffer id = submitted(new Buffer(header(VirtioBlockDevice.T_GET_ID, 0, new byte[0]), 21));
        assertEquals(0, id.status());
        assertEquals("lguest-vm-2", new String(id.writable, 0, 11, StandardCharsets.US_ASCII));
    }

    @Test
    void aReadOnlyImageOffersRoAndRefusesWrites() throws IOException {
        MemoryBlockBackEnd ro = new MemoryBlockBackEnd(SECTORS * 512L) {
            @Override
            public boolean readOnly() {
                return true;
            }
        };
        model = new VirtioBlockDevice(context, ro);
        assertEquals(1L << 5, features & 1L << 5, "VIRTIO_BLK_F_RO");
        assertEquals(VirtioBlockDevice.S_IOERR, submitted(new Buffer(header(VirtioBlockDevice.T_OUT, 0, new byte[512]), 1)).status());
    }
}
