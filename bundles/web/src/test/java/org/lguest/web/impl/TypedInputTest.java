package org.lguest.web.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.lguest.launcher.Guest;
import org.lguest.lg.GuestInfo;

/** A line typed while the console's driver is being swapped waits for the new driver; a guest that ended takes none; input is bounded. */
class TypedInputTest {
    @Test
    void inputDuringASwapWaitsForTheNewDriver() {
        AtomicInteger tries = new AtomicInteger();
        Guest g = new Swapping(3, tries, Guest.State.RUNNING);
        assertTrue(GuestsServlet.typeAt(g, "ls\n".getBytes()));
        assertEquals(4, tries.get(), "refused three times while no driver served the console, taken the fourth");
    }

    @Test
    void aGuestThatEndedTakesNoInputAndTheAnswerComesAtOnce() {
        AtomicInteger tries = new AtomicInteger();
        long start = System.nanoTime();
        assertFalse(GuestsServlet.typeAt(new Swapping(Integer.MAX_VALUE, tries, Guest.State.POWERED_OFF), "x".getBytes()));
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1000, "no waiting for a guest that ended");
    }

    @Test
    void aBodyOverTheLimitIsRefusedAndOneWithinItIsRead() throws Exception {
        byte[] max = new byte[GuestsServlet.MAX_INPUT];
        assertArrayEquals(max, GuestsServlet.readBounded(new ByteArrayInputStream(max), GuestsServlet.MAX_INPUT));
        assertNull(GuestsServlet.readBounded(new ByteArrayInputStream(new byte[GuestsServlet.MAX_INPUT + 1]), GuestsServlet.MAX_INPUT));
    }

    /** A guest whose console refuses input {@code refusals} times, counting the tries. */
    static final class Swapping implements Guest {
        private final int refusals;
        private final AtomicInteger tries;
        private final State state;

        Swapping(int refusals, AtomicInteger tries, State state) {
            this.refusals = refusals;
            this.tries = tries;
            this.state = state;
        }

        @Override public boolean input(String type, byte[] data) { return tries.incrementAndGet() > refusals; }
        @Override public State state() { return state; }
        @Override public int id() { return 1; }
        @Override public org.lguest.launcher.GuestSpec spec() { return null; }
        @Override public java.time.Duration uptime() { return java.time.Duration.ZERO; }
        @Override public java.util.Optional<GuestInfo> info() { return java.util.Optional.empty(); }
        @Override public java.util.concurrent.CompletionStage<End> ending() { return new java.util.concurrent.CompletableFuture<>(); }
        @Override public void stop() { }
        @Override public boolean suspend() { return false; }
        @Override public java.util.Optional<String> requestShutdown(boolean restart) { return java.util.Optional.empty(); }
        @Override public boolean resume() { return false; }
        @Override public boolean isPaused() { return false; }
        @Override public java.util.Optional<String> transcript(String type) { return java.util.Optional.empty(); }
        @Override public AutoCloseable watch(String type, java.util.function.Consumer<byte[]> sink) { return () -> { }; }
        @Override public Map<String, Map<String, Long>> deviceMetrics() { return Map.of(); }
        @Override public List<DeviceInfo> deviceInfo() { return List.of(); }
    }
}
