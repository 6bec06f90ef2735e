package org.lguest.cpu.impl;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Compiled block code shared between processors. A block's generated class
 * depends only on the decoded fields of its instructions (kind, length,
 * operands, displacement, immediate): it holds no state, no address and no
 * reference to a processor, which hands it the CPU and the block's
 * {@code Insn[]} when it runs. So guests running the same kernel compile each
 * block once between them instead of once each: less metaspace per guest,
 * and every guest after the first boots on code already compiled. The
 * cache holds its code weakly: a class goes when no processor's block uses it
 * any more. One cache per CPU factory (the CPU service), one per processor
 * made without a factory.
 */
final class CompiledBlocks {
    private final ConcurrentHashMap<Shape, Entry> byShape = new ConcurrentHashMap<>();
    private final ReferenceQueue<BlockCode> gone = new ReferenceQueue<>();
    private final AtomicLong compiled = new AtomicLong(), shared = new AtomicLong();

    /** What a block's code is made from: 13 decoded fields per instruction. */
    record Shape(int[] fields) {
        static Shape of(Insn[] ins) {
            int[] f = new int[ins.length * 13];
            int i = 0;
            for (Insn in : ins) {
                f[i++] = in.kind;
                f[i++] = in.len;
                f[i++] = in.op;
                f[i++] = in.sz;
                f[i++] = in.reg;
                f[i++] = in.rm;
                f[i++] = in.mem ? 1 : 0;
                f[i++] = in.seg;
                f[i++] = in.base;
                f[i++] = in.index;
                f[i++] = in.scale;
                f[i++] = in.disp;
                f[i++] = in.imm;
            }
            return new Shape(f);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Shape s && Arrays.equals(fields, s.fields);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(fields);
        }
    }

    private static final class Entry extends WeakReference<BlockCode> {
        final Shape shape;

        Entry(BlockCode code, Shape shape, ReferenceQueue<BlockCode> queue) {
            super(code, queue);
            this.shape = shape;
        }
    }

    /** The block for {@code ins}: its code from the cache, or compiled now and cached. */
    Block block(Insn[] ins) {
        expunge();
        Shape shape = Shape.of(ins);
        int bytes = 0;
        for (Insn in : ins) {
            bytes += in.len;
        }
        Entry e = byShape.get(shape);
        BlockCode code = e == null ? null : e.get();
        if (code != null) {
            shared.incrementAndGet();
            return new Block(code, ins, bytes);
        }
        code = BlockCompiler.define(ins);
        compiled.incrementAndGet();
        byShape.put(shape, new Entry(code, shape, gone));
        return new Block(code, ins, bytes);
    }

    /** Drops the entries whose code no block uses any more. */
    private void expunge() {
        for (java.lang.ref.Reference<? extends BlockCode> r; (r = gone.poll()) != null; ) {
            Entry e = (Entry) r;
            byShape.remove(e.shape, e);
        }
    }

    /** Classes defined so far. */
    long compiled() {
        return compiled.get();
    }

    /** Blocks given code another processor had compiled. */
    long shared() {
        return shared.get();
    }

    /** Entries held now (live code, and code not yet collected). */
    int size() {
        return byShape.size();
    }
}
