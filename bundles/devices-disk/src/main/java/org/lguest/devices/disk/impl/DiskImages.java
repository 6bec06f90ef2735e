package org.lguest.devices.disk.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.lguest.device.block.BlockBackEnd;

/**
 * Opens a disk's back end from the text a user gives ({@code --disk}):
 * <ul>
 * <li>{@code FILE} a raw image, read-write; {@code FILE,ro} read-only;</li>
 * <li>{@code memory:SIZE} a zero-filled disk in memory ({@code 64M},
 * {@code 1G}, {@code 4096K} or bytes; at most 1 GiB).</li>
 * </ul>
 * Every check happens before anything is held, and a refused open leaves
 * nothing open: a missing or unreadable file, one that is not a whole
 * number of 512-byte sectors, a read-write image the host may not write,
 * and an image some guest (or another process) already has read-write, or
 * that is wanted read-write while others read it. Locks are held as long as
 * a back end is open: an exclusive {@link FileLock} for a writer, a shared
 * one for readers (so other processes see them too), and this object's own
 * count of the readers in this JVM (which Java's locks do not allow twice).
 */
final class DiskImages {
    static final long MAX_MEMORY_DISK = 1L << 30;

    /** The lock on one image file, held while any back end on it is open. */
    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final boolean writer;
        int users;

        Held(FileChannel channel, FileLock lock, boolean writer) {
            this.channel = channel;
            this.lock = lock;
            this.writer = writer;
        }
    }

    private final Map<Path, Held> held = new HashMap<>();

    synchronized BlockBackEnd open(String spec) throws IOException {
        if (spec.startsWith("memory:")) {
            return new MemoryBlockBackEnd(memorySize(spec.substring("memory:".length())));
        }
        boolean readOnly = false;
        String file = spec;
        if (spec.endsWith(",ro")) {
            readOnly = true;
            file = spec.substring(0, spec.length() - 3);
        } else if (spec.endsWith(",rw")) {
            file = spec.substring(0, spec.length() - 3);
        }
        if (file.isEmpty()) {
            throw new IOException("disk: no image named (FILE[,ro] or memory:SIZE)");
        }
        Path given = Path.of(file).toAbsolutePath();
        if (!Files.exists(given)) {
            throw new IOException("disk image " + given + ": no such file");
        }
        if (!Files.isRegularFile(given)) {
            throw new IOException("disk image " + given + ": not a regular file");
        }
        Path path = given.toRealPath();
        if (!Files.isReadable(path)) {
            throw new IOException("disk image " + path + ": not readable");
        }
        if (!readOnly && !Files.isWritable(path)) {
            throw new IOException("disk image " + path + ": not writable (give " + file + ",ro to use it read-only)");
        }
        long size = Files.size(path);
        if (size == 0 || size % BlockBackEnd.SECTOR_SIZE != 0) {
            throw new IOException(String.format("disk image %s: %d bytes is not a whole, non-zero number of "
                    + "%d-byte sectors", path, size, BlockBackEnd.SECTOR_SIZE));
        }
        Held h = held.get(path);
        if (h != null && (h.writer || !readOnly)) {
            throw new IOException("disk image " + path + ": already in use " + (h.writer ? "read-write" : "read-only")
                    + " by another guest; an image written by one guest cannot be shared");
        }
        if (h == null) {
            h = lock(path, readOnly);
            held.put(path, h);
        }
        FileChannel data;
        try {
            data = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            if (h.users == 0) {
                unlock(path, h);
            }
            throw new IOException("disk image " + path + ": " + e.getMessage(), e);
        }
        h.users++;
        Held mine = h;
        return new FileBlockBackEnd(path, data, size / BlockBackEnd.SECTOR_SIZE, readOnly, () -> release(path, mine));
    }

    /** How many back ends hold an image now (0 when none): for tests and listings. */
    synchronized int users(Path image) throws IOException {
        Held h = held.get(image.toRealPath());
        return h == null ? 0 : h.users;
    }

    private static Held lock(Path path, boolean readOnly) throws IOException {
        FileChannel c = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = c.tryLock(0, Long.MAX_VALUE, readOnly);
        } catch (OverlappingFileLockException e) {
            lock = null; // held by a DiskImages of another bundle instance in this JVM
        } catch (IOException e) {
            c.close();
            throw new IOException("disk image " + path + ": cannot lock it: " + e.getMessage(), e);
        }
        if (lock == null) {
            c.close();
            throw new IOException("disk image " + path + ": locked by another process or guest"
                    + (readOnly ? " for writing" : ""));
        }
        return new Held(c, lock, !readOnly);
    }

    private synchronized void release(Path path, Held h) {
        if (--h.users == 0) {
            unlock(path, h);
        }
    }

    private void unlock(Path path, Held h) {
        held.remove(path, h);
        try {
            h.lock.release();
            h.channel.close();
        } catch (IOException e) {
            // closing the channel releases the lock whatever happens
        }
    }

    static long memorySize(String text) throws IOException {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K")) {
            unit = 1L << 10;
        } else if (t.endsWith("M")) {
            unit = 1L << 20;
        } else if (t.endsWith("G")) {
            unit = 1L << 30;
        }
        if (unit != 1) {
            t = t.substring(0, t.length() - 1);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IOException("disk memory:" + text + ": not a size (like 64M, 1G, 4096K or bytes)");
        }
        if (bytes <= 0 || bytes % BlockBackEnd.SECTOR_SIZE != 0 || bytes > MAX_MEMORY_DISK) {
            throw new IOException(String.format("disk memory:%s: %d bytes; a memory disk is a whole number of "
                    + "%d-byte sectors, at most 1 GiB", text, bytes, BlockBackEnd.SECTOR_SIZE));
        }
        return bytes;
    }
}
