package org.lguest.devices.disk.impl;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * How both disk models do their requests: in the order they came, at once on
 * the caller's thread (the guest's) when nothing is queued or in progress,
 * which saves two hand-overs between threads, otherwise on this queue's own
 * I/O thread behind the others (requests resubmitted after a driver swap,
 * from another thread, queue there). {@link #close()} lets the request in
 * progress finish and drops the queued ones, which the Launcher submits again
 * to the replacement model.
 *
 * @param <T> one request, as the model checked it
 */
final class InOrderIo<T> implements AutoCloseable {
    /** Ends the I/O thread (a request object never is this). */
    private static final Object STOP = new Object();

    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    /** Held while a request is being done, by the I/O thread or a caller. */
    private final ReentrantLock performing = new ReentrantLock();
    private final Consumer<T> perform;
    private final Thread thread;
    private volatile boolean closing;

    InOrderIo(String threadName, Consumer<T> perform) {
        this.perform = perform;
        this.thread = Thread.ofPlatform().daemon().name(threadName).start(this::serve);
    }

    void submit(T request) {
        if (queue.isEmpty() && performing.tryLock()) {
            try {
                if (queue.isEmpty() && !closing) {
                    perform.accept(request);
                    return;
                }
            } finally {
                performing.unlock();
            }
        }
        queue.add(request);
    }

    @SuppressWarnings("unchecked")
    private void serve() {
        while (true) {
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (next == STOP) {
                return;
            }
            performing.lock();
            try {
                perform.accept((T) next);
            } finally {
                performing.unlock();
            }
        }
    }

    /** Waits for the request in progress (nothing reaches the guest from it afterwards); the queued ones are dropped. */
    @Override
    public void close() {
        closing = true;
        queue.clear(); // not started: the Launcher submits them again to the replacement
        queue.add(STOP);
        performing.lock(); // and one being done on a caller's thread ends first
        performing.unlock();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
