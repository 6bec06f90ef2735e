package org.lguest.cpu.impl.compile;

import java.io.Serializable;
import java.lang.classfile.CodeBuilder;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;

import org.lguest.cpu.impl.CpuState;
import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.interpret.Fast;

/**
 * The processor methods that compiled regions call, each named by a Java
 * method reference: javac checks that the method exists with that shape,
 * and a rename or a changed signature fails to compile instead of failing
 * when a guest first runs hot code. The name and descriptor the generated
 * code needs are read back from the reference (its {@link SerializedLambda}).
 *
 * <p>The fields generated code reads and writes ({@code r}, {@code eip},
 * the lazy-flag fields) cannot be named that way; {@link #field} looks each
 * one up when this class is initialised, so a renamed field fails the first
 * compilation, with its name, in any test that runs hot code. So does a
 * field that is not public: the generated classes are hidden classes of
 * this package, and the processor's fields are declared in others.
 */
final class Handlers {
    private Handlers() {
    }

    // the shapes of the handlers (Serializable, so that their target can be read back)
    interface IntOf4 extends Serializable {
        int call(Fast cpu, int a, int b, int c, int d);
    }

    interface IntOf5 extends Serializable {
        int call(Fast cpu, int a, int b, int c, int d, int e);
    }

    interface BoolOf1 extends Serializable {
        boolean call(Fast cpu, int a);
    }

    interface IntOf2 extends Serializable {
        int call(Fast cpu, int a, int b);
    }

    interface VoidOf1 extends Serializable {
        void call(Fast cpu, int a);
    }

    interface VoidOf0 extends Serializable {
        void call(Fast cpu);
    }

    interface IntOf0 extends Serializable {
        int call(Fast cpu);
    }

    interface StaticLinear extends Serializable {
        int call(CpuState cpu, int[] fastLimit, int seg, int off, int n, int perm);
    }

    interface StaticLoadForWrite extends Serializable {
        int call(CpuState cpu, int a, int n, int[] tags, byte[][] frames, int user);
    }

    interface StaticStore extends Serializable {
        void call(CpuState cpu, int a, int v, int[] tags, byte[][] frames, int user);
    }

    interface StaticLoadAt extends Serializable {
        int call(CpuState cpu, int[] fastLimit, int seg, int off, int[] tags, byte[][] frames, int user);
    }

    interface StaticStoreAt extends Serializable {
        void call(CpuState cpu, int[] fastLimit, int seg, int off, int v, int[] tags, byte[][] frames, int user);
    }

    interface StaticStackFrame extends Serializable {
        byte[] call(CpuState cpu, int[] fastLimit, int off, int[] tags, byte[][] frames, int user);
    }

    interface StaticStackLimit extends Serializable {
        int call(byte[] frame);
    }

    interface StaticStackLoad extends Serializable {
        int call(CpuState cpu, int off);
    }

    interface StaticStackStore extends Serializable {
        void call(CpuState cpu, int off, int v);
    }

    interface StaticDataLoad extends Serializable {
        int call(CpuState cpu, int off, int n);
    }

    interface StaticDataStore extends Serializable {
        void call(CpuState cpu, int off, int v, int n);
    }

    interface StaticFrameLoad extends Serializable {
        int call(byte[] frame, int o);
    }

    interface StaticFrameStore extends Serializable {
        void call(byte[] frame, int o, int v);
    }

    interface VoidOfInsn extends Serializable {
        void call(Fast cpu, Insn in);
    }

    /** A method of the processor, as generated code calls it. */
    record Ref(ClassDesc owner, String name, MethodTypeDesc type, boolean isStatic) {
        void invoke(CodeBuilder code) {
            if (isStatic) code.invokestatic(owner, name, type);
            else code.invokevirtual(owner, name, type);
        }
    }

    static final Ref CONDITION = of((BoolOf1) Fast::condFast);
    static final Ref CARRY = of((IntOf0) Fast::getCF);
    /** CF of a region's pending lazy flags, from its locals (op, a, b, r, aux). */
    static final Ref CARRY_OF = of((IntOf5) Fast::carryOf);
    /** More budget for a region at a back edge (see Fast.extendBudget). */
    static final Ref EXTEND = of((IntOf2) Fast::extendBudget);
    /** A large count moved into the processor's (see Fast.bank). */
    static final Ref BANK = of((VoidOf1) Fast::bank);
    /** A call as a JVM call of the callee's region (see Fast.callFunction). */
    static final Ref CALL = of((IntOf5) Fast::callFunction);
    /** The sized ALU with its lazy flags (op, a, b, size). */
    static final Ref ALU = of((IntOf4) Fast::alu);
    static final Ref SHIFT = of((IntOf4) Fast::shift);
    /** Compiled code's memory access (see CpuState, "memory access from compiled regions"). */
    static final Ref LINEAR = of((StaticLinear) CpuState::linearOf);
    static final Ref LOAD_FOR_WRITE = of((StaticLoadForWrite) CpuState::loadForWrite);
    static final Ref STORE32 = of((StaticStore) CpuState::store32);
    static final Ref STORE16 = of((StaticStore) CpuState::store16);
    static final Ref STORE8 = of((StaticStore) CpuState::store8);
    /** The segment check and the access in one call (a segment, an offset in it). */
    static final Ref LOAD_AT32 = of((StaticLoadAt) CpuState::loadAt32);
    static final Ref LOAD_AT16 = of((StaticLoadAt) CpuState::loadAt16);
    static final Ref LOAD_AT8 = of((StaticLoadAt) CpuState::loadAt8);
    static final Ref STORE_AT32 = of((StaticStoreAt) CpuState::storeAt32);
    static final Ref STORE_AT16 = of((StaticStoreAt) CpuState::storeAt16);
    static final Ref STORE_AT8 = of((StaticStoreAt) CpuState::storeAt8);
    /** The stack page a region reaches directly (see CpuState, "the stack page"). */
    static final Ref STACK_FRAME = of((StaticStackFrame) CpuState::stackFrame);
    static final Ref STACK_LIMIT = of((StaticStackLimit) CpuState::stackLimit);
    static final Ref FRAME_LOAD32 = of((StaticFrameLoad) CpuState::frameLoad32);
    /** A 32-bit access to SS off the stack page, in few bytecodes (the usual accessor, arguments from the fields). */
    static final Ref STACK_LOAD32 = of((StaticStackLoad) CpuState::stackLoad32);
    static final Ref STACK_STORE32 = of((StaticStackStore) CpuState::stackStore32);
    static final Ref FRAME_STORE32 = of((StaticFrameStore) CpuState::frameStore32);
    /** The data pages (see CpuState, "the data pages"): a byte or word access through DS off them, which may take its page. */
    static final Ref DATA_LOAD = of((StaticDataLoad) CpuState::dataLoad);
    static final Ref DATA_STORE = of((StaticDataStore) CpuState::dataStore);
    static final Ref FRAME_LOAD16 = of((StaticFrameLoad) CpuState::frameLoad16);
    static final Ref FRAME_LOAD8 = of((StaticFrameLoad) CpuState::frameLoad8);
    static final Ref FRAME_STORE16 = of((StaticFrameStore) CpuState::frameStore16);
    static final Ref FRAME_STORE8 = of((StaticFrameStore) CpuState::frameStore8);
    /** No data page (after an interpreted instruction). */
    static final Ref DATA_PAGE_OFF = of((VoidOf0) Fast::dataPageOff);
    /** Any decoded instruction, interpreted (registers and flags in the processor's fields). */
    static final Ref EXEC = of((VoidOfInsn) Fast::exec);

    static Ref of(Serializable reference) {
        SerializedLambda s;
        try {
            Method m = reference.getClass().getDeclaredMethod("writeReplace");
            m.setAccessible(true);
            s = (SerializedLambda) m.invoke(reference);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read a handler reference back", e);
        }
        int kind = s.getImplMethodKind();
        if ((kind != MethodHandleInfo.REF_invokeVirtual && kind != MethodHandleInfo.REF_invokeStatic)
                || s.getImplMethodName().startsWith("lambda$")) {
            throw new IllegalStateException("handler " + s.getImplMethodName() + " is not a plain method of the processor");
        }
        return new Ref(ClassDesc.ofInternalName(s.getImplClass()), s.getImplMethodName(),
                MethodTypeDesc.ofDescriptor(s.getImplMethodSignature()), kind == MethodHandleInfo.REF_invokeStatic);
    }

    /** The processor's field {@code name}, checked to exist (in Fast or a superclass) with the type given. */
    static String field(String name, Class<?> type) {
        for (Class<?> c = Fast.class; c != Object.class; c = c.getSuperclass()) {
            try {
                java.lang.reflect.Field f = c.getDeclaredField(name);
                if (f.getType() != type) {
                    throw new IllegalStateException("processor field " + name + " is " + f.getType() + ", compiled code expects " + type);
                }
                if (!java.lang.reflect.Modifier.isPublic(f.getModifiers())) {
                    throw new IllegalStateException("processor field " + name + " is not public: compiled code, in another package, cannot reach it");
                }
                return name;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new IllegalStateException("compiled code uses processor field " + name + ", which no longer exists");
    }
}
