package org.lguest.devices.disk.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lguest.device.block.BlockBackEnd;

/** Disk back ends: what opens, what is refused with which reason, and that the bytes land where dd finds them. */
class DiskImagesTest {
    @TempDir
    Path dir;
    final DiskImages images = new DiskImages();

    Path image(String name, int bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, new byte[bytes]);
        return p;
    }

    static ByteBuffer pattern(int sectors, int seed) {
        byte[] b = new byte[sectors * BlockBackEnd.SECTOR_SIZE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return ByteBuffer.wrap(b);
    }

    String refusal(String spec) {
        return assertThrows(IOException.class, () -> images.open(spec)).getMessage();
    }

    @Test
    void aFileImageHasTheFilesCapacityAndReadsBackWhatWasWritten() throws IOException {
        Path p = image("d.img", 64 * 512);
        try (BlockBackEnd disk = images.open(p.toString())) {
            assertEquals(64, disk.capacity());
            assertFalse(disk.readOnly());
            disk.write(10, pattern(3, 7));
            ByteBuffer back = ByteBuffer.allocate(3 * 512);
            disk.read(10, back);
            assertArrayEquals(pattern(3, 7).array(), back.array());
            disk.flush();
        }
    }

    @Test
    void aWriteIsInTheFileWhenItReturnsAtSectorTimes512() throws IOException {
        Path p = image("d.img", 16 * 512);
        try (BlockBackEnd disk = images.open(p.toString())) {
            disk.write(5, pattern(1, 3));
            byte[] file = Files.readAllBytes(p);
            assertArrayEquals(pattern(1, 3).array(), Arrays.copyOfRange(file, 5 * 512, 6 * 512),
                    "read by another reader of the file before any flush");
        }
    }

    @Test
    void ddMakesAnImageAndReadsBackTheSectorsWritten() throws Exception {
        Path p = dir.resolve("dd.img");
        run("dd", "if=/dev/zero", "of=" + p, "bs=512", "count=128", "status=none");
        try (BlockBackEnd disk = images.open(p.toString())) {
            assertEquals(128, disk.capacity());
            disk.write(100, pattern(2, 9));
        }
        Path out = dir.resolve("out.bin");
        run("dd", "if=" + p, "of=" + out, "bs=512", "skip=100", "count=2", "status=none");
        assertArrayEquals(pattern(2, 9).array(), Files.readAllBytes(out));
    }

    static void run(String... cmd) throws Exception {
        Process proc = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(proc.waitFor(30, TimeUnit.SECONDS) && proc.exitValue() == 0, String.join(" ", cmd) + " failed");
    }

    @Test
    void aReadOnlyImageRefusesWritesAsAnIoErrorAndKeepsItsBytes() throws IOException {
        Path p = image("ro.img", 8 * 512);
        try (BlockBackEnd disk = images.open(p + ",ro")) {
            assertTrue(disk.readOnly());
            IOException e = assertThrows(IOException.class, () -> disk.write(0, pattern(1, 1)));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
        assertArrayEquals(new byte[8 * 512], Files.readAllBytes(p));
    }

    @Test
    void aMissingImageIsRefusedByName() {
        String why = refusal(dir.resolve("nope.img").toString());
        assertTrue(why.endsWith("nope.img: no such file"), why);
    }

    @Test
    void anImageThatIsNotWholeSectorsIsRefused() throws IOException {
        Path p = image("odd.img", 1000);
        assertTrue(refusal(p.toString()).contains("1000 bytes is not a whole, non-zero number of 512-byte sectors"));
        assertTrue(refusal(image("empty.img", 0).toString()).contains("0 bytes is not a whole"));
    }

    @Test
    void anUnwritableImageIsRefusedReadWriteAndOpensReadOnly() throws IOException {
        Path p = image("locked.img", 4 * 512);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
        assumeFalse(Files.isWritable(p), "running as root: permission bits do not stop writes, nothing to refuse");
        assertTrue(refusal(p.toString()).contains("not writable (give"));
        try (BlockBackEnd disk = images.open(p + ",ro")) {
            assertEquals(4, disk.capacity());
        }
    }

    @Test
    void oneImageIsNeverWrittenByTwoGuests() throws IOException {
        Path p = image("shared.img", 4 * 512);
        try (BlockBackEnd first = images.open(p.toString())) {
            assertTrue(refusal(p.toString()).contains("already in use read-write by another guest"));
            assertTrue(refusal(p + ",ro").contains("already in use read-write"));
            assertEquals(1, images.users(p), "the refusals hold nothing");
        }
        assertEquals(0, images.users(p));
        try (BlockBackEnd again = images.open(p.toString())) {
            assertEquals(4, again.capacity(), "free again once the first is closed");
        }
    }

    @Test
    void manyGuestsMayReadOneImageButThenNoneMayWriteIt() throws IOException {
        Path p = image("base.img", 4 * 512);
        try (BlockBackEnd a = images.open(p + ",ro"); BlockBackEnd b = images.open(p + ",ro")) {
            assertEquals(2, images.users(p));
            assertTrue(refusal(p.toString()).contains("already in use read-only"));
        }
        assertEquals(0, images.users(p));
    }

    @Test
    void anotherProcessesWriterLockIsSeen() throws IOException {
        Path p = image("other.img", 4 * 512);
        DiskImages otherBundle = new DiskImages(); // another instance in this JVM stands for another process
        try (BlockBackEnd theirs = otherBundle.open(p.toString())) {
            assertTrue(refusal(p.toString()).contains("locked by another process or guest"));
        }
    }

    @Test
    void accessOutsideTheCapacityIsAModelBugNotAnIoError() throws IOException {
        try (BlockBackEnd disk = images.open(image("small.img", 4 * 512).toString())) {
            assertThrows(IllegalArgumentException.class, () -> disk.read(3, ByteBuffer.allocate(1024)));
            assertThrows(IllegalArgumentException.class, () -> disk.write(-1, pattern(1, 0)));
            assertThrows(IllegalArgumentException.class, () -> disk.read(0, ByteBuffer.allocate(100)));
            assertThrows(IllegalArgumentException.class, () -> disk.read(Long.MAX_VALUE, ByteBuffer.allocate(512)));
        }
    }

    @Test
    void aMemoryDiskIsZeroedSizedAsAskedAndKeepsWhatIsWritten() throws IOException {
        try (BlockBackEnd disk = images.open("memory:1M")) {
            assertEquals(2048, disk.capacity());
            assertEquals("memory 1 MiB", disk.describe());
            ByteBuffer zero = ByteBuffer.allocate(512);
            disk.read(2047, zero);
            assertArrayEquals(new byte[512], zero.array());
            disk.write(127, pattern(2, 5)); // straddles the first 64 KiB chunk's end
            ByteBuffer back = ByteBuffer.allocate(1024);
            disk.read(127, back);
            assertArrayEquals(pattern(2, 5).array(), back.array());
        }
    }

    @Test
    void memoryDiskSizesAreChecked() {
        assertTrue(refusal("memory:1000").contains("whole number of 512-byte sectors"));
        assertTrue(refusal("memory:2G").contains("at most 1 GiB"));
        assertTrue(refusal("memory:lots").contains("not a size"));
    }
}
