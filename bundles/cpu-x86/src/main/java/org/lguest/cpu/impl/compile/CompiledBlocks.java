package org.lguest.cpu.impl.compile;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.lguest.cpu.impl.decode.Insn;

/**
 * Compiled region code shared between processors. A region's generated class
 * depends only on the decoded fields of its instructions (kind, length,
 * operands, displacement, immediate) and their offsets in the page: it holds
 * no state, no address and no reference to a processor, which hands it the
 * CPU and the region's {@code Insn[]} when it runs. So guests running the same kernel compile each
 * block once between them instead of once each: less metaspace per guest,
 * and every guest after the first boots on code already compiled. The
 * cache holds its code weakly: a class goes when no processor's block uses it
 * any more. One cache per CPU factory (the CPU service), one per processor
 * made without a factory.
 */
public final class CompiledBlocks {
    private final ConcurrentHashMap<Shape, Entry> byShape = new ConcurrentHashMap<>();
    private final ReferenceQueue<BlockCode> gone = new ReferenceQueue<>();
    private final AtomicLong compiled = new AtomicLong(), shared = new AtomicLong();

    /** What a region's code is made from: its entry, whether its calls nest, and per instruction its page offset, 13 decoded fields and the targets it was seen to take. */
    record Shape(int[] fields) {
        static Shape of(RegionCompiler.Plan plan) {
            Insn[] ins = plan.ins();
            int seen = 0;
            for (Insn in : ins) {
                if (in.seen != null) seen += in.seen.length;
            }
            int[] f = new int[2 + ins.length * 15 + seen];
            int i = 0;
            f[i++] = plan.head();
            f[i++] = plan.nestedCalls() ? 1 : 0;
            for (int k = 0; k < ins.length; k++) {
                Insn in = ins[k];
                f[i++] = plan.offs()[k];
                f[i++] = in.kind.ordinal();
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
                f[i++] = in.seen == null ? 0 : in.seen.length;
                if (in.seen != null) {
                    for (int t : in.seen) f[i++] = t;
                }
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
        /** see {@link RegionCompiler.Compiled#kept} */
        final int kept;

        Entry(RegionCompiler.Compiled compiled, Shape shape, ReferenceQueue<BlockCode> queue) {
            super(compiled.code(), queue);
            this.shape = shape;
            this.kept = compiled.kept();
        }
    }

    /** The region for {@code plan}: its code from the cache, or compiled now and cached. */
    public Block block(RegionCompiler.Plan plan) {
        expunge();
        Shape shape = Shape.of(plan);
        Entry e = byShape.get(shape);
        BlockCode code = e == null ? null : e.get();
        if (code != null) {
            shared.incrementAndGet();
            return new Block(code, new RegionCompiler.Compiled(code, e.kept).plan(plan));
        }
        RegionCompiler.Compiled c = RegionCompiler.define(plan);
        compiled.incrementAndGet();
        byShape.put(shape, new Entry(c, shape, gone));
        return new Block(c.code(), c.plan(plan));
    }

    /** Drops the entries whose code no block uses any more. */
    private void expunge() {
        for (java.lang.ref.Reference<? extends BlockCode> r; (r = gone.poll()) != null; ) {
            Entry e = (Entry) r;
            byShape.remove(e.shape, e);
        }
    }

    /** Classes defined so far. */
    public long compiled() {
        return compiled.get();
    }

    /** Blocks given code another processor had compiled. */
    public long shared() {
        return shared.get();
    }

    /** Entries held now (live code, and code not yet collected). */
    int size() {
        return byShape.size();
    }
}
