package org.lguest.devices.disk.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.device.DeviceContext;
import org.lguest.device.block.BlockBackEnd;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.impl.MmuComponent;

/** The lguest_block model: the request page in, the result and the reply out; hostile requests kill. */
class BlockDeviceTest {
    static final int PAGE = 0x8000;
    static final int KEY = PAGE;
    final GuestMemory memory = new MmuComponent().newGuestMemory(16).build();
    final List<byte[]> delivered = new java.util.concurrent.CopyOnWriteArrayList<>();

    final DeviceContext context = new DeviceContext() {
        @Override
        public int guestId() {
            return 1;
        }

        @Override
        public String guestName() {
            return "test";
        }

        @Override
        public int index() {
            return 0;
        }

        @Override
        public Map<String, String> configuration() {
            return Map.of();
        }

        @Override
        public int pagesAddress() {
            return PAGE;
        }

        @Override
        public int pageCount() {
            return 1;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }

        @Override
        public byte[] savedState() {
            return new byte[0];
        }

        @Override
        public int deliver(int key, ByteBuffer data) {
            assertEquals(KEY, key);
            byte[] b = new byte[data.remaining()];
            data.get(b);
            delivered.add(b);
            return b.length;
        }
    };

    @AfterEach
    void close() {
        memory.close();
    }

    void request(int type, int sector, int bytes) {
        memory.writeU32(PAGE + BlockDevice.TYPE, type);
        memory.writeU32(PAGE + BlockDevice.SECTOR, sector);
        memory.writeU32(PAGE + BlockDevice.BYTES, bytes);
        memory.writeU32(PAGE + BlockDevice.RESULT, 0);
    }

    static ByteBuffer[] data(int bytes, int fill) {
        byte[] b = new byte[bytes];
        java.util.Arrays.fill(b, (byte) fill);
        return new ByteBuffer[] {ByteBuffer.wrap(b)};
    }

    /** A request as the Launcher makes one: the sections, and the answer awaited. */
    static final class Request implements org.lguest.device.DeviceRequest {
        final ByteBuffer[] sections;
        final java.util.concurrent.CompletableFuture<Integer> answer = new java.util.concurrent.CompletableFuture<>();

        Request(ByteBuffer[] sections) {
            this.sections = sections;
        }

        @Override
        public int queue() {
            return KEY;
        }

        @Override
        public ByteBuffer[] readable() {
            ByteBuffer[] views = new ByteBuffer[sections.length];
            for (int i = 0; i < views.length; i++) {
                views[i] = sections[i].asReadOnlyBuffer();
            }
            return views;
        }

        @Override
        public int readableLength() {
            int n = 0;
            for (ByteBuffer b : sections) {
                n += b.remaining();
            }
            return n;
        }

        @Override
        public void complete(int usedLen) {
            answer.complete(usedLen);
        }

        @Override
        public boolean isComplete() {
            return answer.isDone();
        }
    }

    /** Submits and waits for the answer (the model completes on its I/O thread); returns used_len. */
    static int send(BlockDevice d, ByteBuffer[] sections) {
        Request r = new Request(sections);
        d.submit(r);
        try {
            return r.answer.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the request was not answered", e);
        }
    }

    String kill(BlockDevice d, ByteBuffer[] sections) {
        Request r = new Request(sections);
        String reason = assertThrows(GuestViolationException.class, () -> d.submit(r)).reason();
        assertTrue(!r.isComplete(), "a hostile request is not answered: the guest dies");
        return reason;
    }

    @Test
    void theDiskSizeIsInThePageAtOpen() {
        new BlockDevice(context, new MemoryBlockBackEnd(64 * 512));
        assertEquals(64, memory.readU32(PAGE + BlockDevice.NUM_SECTORS));
    }

    @Test
    void aWriteThenAReadRoundTripAndEachCompletesWithResultOneAndAnInterrupt() {
        BlockDevice d = new BlockDevice(context, new MemoryBlockBackEnd(64 * 512));
        request(1, 3, 1024);
        assertEquals(0, send(d, data(1024, 0x5a)), "the send's used_len");
        assertEquals(1, memory.readU32(PAGE + BlockDevice.RESULT));
        assertEquals(0, delivered.get(0).length, "an empty delivery raises the interrupt after a write");
        request(0, 3, 1024);
        send(d, new ByteBuffer[0]);
        assertEquals(1, memory.readU32(PAGE + BlockDevice.RESULT));
        assertArrayEquals(data(1024, 0x5a)[0].array(), delivered.get(1), "the read's data go to the reply buffer");
    }

    interface Flush {
        void run() throws IOException;
    }

    /** A memory disk whose flush does {@code flush}. */
    static BlockBackEnd flushing(Flush flush) {
        BlockBackEnd inner = new MemoryBlockBackEnd(64 * 512);
        return new BlockBackEnd() {
            @Override
            public long capacity() {
                return inner.capacity();
            }

            @Override
            public boolean readOnly() {
                return false;
            }

            @Override
            public void read(long sector, ByteBuffer dst) throws IOException {
                inner.read(sector, dst);
            }

            @Override
            public void write(long sector, ByteBuffer src) throws IOException {
                inner.write(sector, src);
            }

            @Override
            public void flush() throws IOException {
                flush.run();
            }

            @Override
            public String describe() {
                return "flushing";
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void aFlushReachesTheBackEndBeforeResultOne() {
        int[] flushed = {0};
        BlockBackEnd disk = flushing(() -> flushed[0]++);
        BlockDevice d = new BlockDevice(context, disk);
        request(2, 0, 0);
        assertEquals(0, send(d, new ByteBuffer[0]));
        assertEquals(1, flushed[0], "the back end flushed");
        assertEquals(1, memory.readU32(PAGE + BlockDevice.RESULT));
        assertEquals(0, delivered.get(0).length, "an empty delivery raises the interrupt");
        assertEquals(1L, d.metrics().get("flushes"));
    }

    @Test
    void aFlushThatFailsIsAnIoErrorAndOneWithDataKills() {
        BlockBackEnd disk = flushing(() -> {
            throw new IOException("disk gone");
        });
        BlockDevice d = new BlockDevice(context, disk);
        request(2, 0, 0);
        send(d, new ByteBuffer[0]);
        assertEquals(2, memory.readU32(PAGE + BlockDevice.RESULT));
        request(2, 0, 0);
        assertEquals("bad block request: a flush sent data", kill(d, data(512, 1)));
    }

    @Test
    void aBackEndFailureIsTheGuestsIoErrorNotAKill() {
        BlockBackEnd readOnly = new BlockBackEnd() {
            @Override
            public long capacity() {
                return 64;
            }

            @Override
            public boolean readOnly() {
                return true;
            }

            @Override
            public void read(long sector, ByteBuffer dst) throws IOException {
                throw new IOException("medium error");
            }

            @Override
            public void write(long sector, ByteBuffer src) throws IOException {
                throw new IOException("read-only");
            }

            @Override
            public void flush() {
            }

            @Override
            public String describe() {
                return "failing";
            }

            @Override
            public void close() {
            }
        };
        BlockDevice d = new BlockDevice(context, readOnly);
        request(1, 0, 512);
        send(d, data(512, 1));
        assertEquals(2, memory.readU32(PAGE + BlockDevice.RESULT));
        request(0, 0, 512);
        send(d, new ByteBuffer[0]);
        assertEquals(2, memory.readU32(PAGE + BlockDevice.RESULT));
        assertEquals(2L, d.metrics().get("ioErrors"));
    }

    @Test
    void aRequestBeyondTheDiskKillsTheGuest() {
        BlockDevice d = new BlockDevice(context, new MemoryBlockBackEnd(64 * 512));
        request(0, 60, 4096);
        assertEquals("bad block request: sectors 60..67 beyond the disk's 64", kill(d, new ByteBuffer[0]));
        request(0, 0xFFFFFFFF, 512);
        assertEquals("bad block request: sectors 4294967295..4294967295 beyond the disk's 64",
                kill(d, new ByteBuffer[0]));
    }

    @Test
    void badLengthsAndTypesKillTheGuest() {
        BlockDevice d = new BlockDevice(context, new MemoryBlockBackEnd(64 * 512));
        request(0, 0, 100);
        assertEquals("bad block request: 100 bytes (whole sectors, at most 65536)", kill(d, new ByteBuffer[0]));
        request(0, 0, 0);
        assertEquals("bad block request: 0 bytes (whole sectors, at most 65536)", kill(d, new ByteBuffer[0]));
        request(0, 0, 128 * 1024);
        assertEquals("bad block request: 131072 bytes (whole sectors, at most 65536)", kill(d, new ByteBuffer[0]));
        request(7, 0, 512);
        assertEquals("bad block request: type 7 (0 read, 1 write, 2 flush)", kill(d, new ByteBuffer[0]));
    }

    @Test
    void writeDataThatDoNotMatchTheLengthKillTheGuest() {
        BlockDevice d = new BlockDevice(context, new MemoryBlockBackEnd(64 * 512));
        request(1, 0, 1024);
        assertEquals("bad block request: a write of 1024 bytes sent 512", kill(d, data(512, 1)));
        request(1, 0, 512);
        assertEquals("bad block request: a write of 512 bytes sent more", kill(d, data(1024, 1)));
    }
}
