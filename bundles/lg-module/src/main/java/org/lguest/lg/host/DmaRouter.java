package org.lguest.lg.host;

import org.osgi.annotation.versioning.ProviderType;

/**
 * lguest's {@code io.c}: receive buffers guests bind to keys, and sends.
 * Keys in shared memory (a {@link org.lguest.mmu.SharedRegion}) match across
 * guests by {@link org.lguest.mmu.SharedAddress}; every other key is the
 * Launcher's. All routing runs under one lock (lguest_lock), so two guests
 * sending to each other cannot deadlock. Every DMA list is hostile input:
 * each section must lie in guest memory, be at most a page long and not
 * cross a page, or the guest it belongs to dies.
 */
@ProviderType
public interface DmaRouter {
    /**
     * {@code LHCALL_BIND_DMA(key, dmas, (count << 8) | irq)}: 1 when bound (or,
     * with irq 0, unbound), 0 when refused (irq ≥ 32, no free binding, nothing
     * to unbind). A key not 4-byte aligned or outside guest memory kills.
     */
    int bind(HostGuest guest, int key, int dmas, int countAndIrq);

    /**
     * {@code LHCALL_SEND_DMA(key, dma)}. For a key in shared memory: copies
     * into the first binding of another guest with a free buffer, writes both
     * {@code used_len}s and raises the receiver's interrupt; returns true.
     * For any other key: returns false, and the send is for the Launcher.
     */
    boolean send(HostGuest guest, int key, int dma);

    /** {@code LHREQ_GETDMA}: the guest's own free buffer at {@code key} with its IRQ in used_len, or -1. */
    int getDma(HostGuest guest, int key);

    /** Drops every binding of {@code guest} (death and release). */
    void unbindAll(HostGuest guest);

    /** Bindings {@code guest} holds now. */
    int bindings(HostGuest guest);
}
