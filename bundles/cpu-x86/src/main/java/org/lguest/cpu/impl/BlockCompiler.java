package org.lguest.cpu.impl;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles runs of pre-decoded instructions into hidden classes whose
 * {@code run} method calls the per-form handlers of {@link Fast} with the
 * operands as constants: no dispatch switch, no per-instruction page check.
 * EIP, the fault-restart state (startEip, startEsp, bpos) are stored only
 * where an instruction can fault or reads EIP.
 */
final class BlockCompiler {
    static final int MAX_INSNS = 24, MAX_BYTES = 128;

    private static final ClassDesc CD_FAST = ClassDesc.of("org.lguest.cpu.impl.Fast");
    private static final ClassDesc CD_INSN = ClassDesc.of("org.lguest.cpu.impl.Insn");
    private static final ClassDesc CD_CODE = ClassDesc.of("org.lguest.cpu.impl.BlockCode");
    private static final ClassDesc CD_INT_ARRAY = CD_int.arrayType();
    private static final MethodTypeDesc MT_RUN = MethodTypeDesc.of(CD_int, CD_FAST, CD_INSN.arrayType());
    private static final MethodTypeDesc MT_I = MethodTypeDesc.of(CD_void, CD_int);
    private static final MethodTypeDesc MT_II = MethodTypeDesc.of(CD_void, CD_int, CD_int);
    private static final MethodTypeDesc MT_III = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_IIII = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_5 = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_6 = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_7 = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_8 = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc MT_INSN = MethodTypeDesc.of(CD_void, CD_INSN);
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    /** resolves our own types through this bundle's class loader (not the system one), should stack maps need them */
    private static final ClassFile CLASSFILE = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            java.lang.classfile.ClassHierarchyResolver.ofClassLoading(BlockCompiler.class.getClassLoader())
                    .orElse(java.lang.classfile.ClassHierarchyResolver.defaultResolver())));

    private BlockCompiler() {
    }

    /** Whether the compiler can place this instruction in a block. */
    static boolean compilable(Insn in) {
        return in != null && in.kind != Fast.K_GENERIC;
    }

    static boolean endsBlock(Insn in) {
        switch (in.kind) {
            case Fast.K_JCC: case Fast.K_JMP_REL: case Fast.K_CALL_REL: case Fast.K_RET: case Fast.K_CALL_RM:
            case Fast.K_JMP_RM:
                return true;
            default:
                return false;
        }
    }

    static boolean mayFault(Insn in) {
        int k = in.kind;
        if (k >= Fast.K_RR && k < Fast.K_RR + 16) return false;
        switch (k) {
            case Fast.K_MOV_RR32: case Fast.K_LEA: case Fast.K_INC_R: case Fast.K_DEC_R: case Fast.K_MOV_R_IMM:
            case Fast.K_CDQ: case Fast.K_CWDE: case Fast.K_NOP: case Fast.K_SHL_RI: case Fast.K_SHR_RI: case Fast.K_SAR_RI:
            case Fast.K_JCC: case Fast.K_JMP_REL:
                return false;
            case Fast.K_ALU_RM_R: case Fast.K_ALU_R_RM: case Fast.K_ALU_RM_IMM: case Fast.K_TEST_RM_R: case Fast.K_TEST_RM_IMM:
            case Fast.K_MOV_RM_R: case Fast.K_MOV_R_RM: case Fast.K_MOV_RM_IMM: case Fast.K_INCDEC_RM: case Fast.K_MOVX:
            case Fast.K_SHIFT: case Fast.K_IMUL_RM: case Fast.K_IMUL_RM_IMM: case Fast.K_CMOV: case Fast.K_SETCC:
            case Fast.K_XCHG:
                return in.mem;
            default:
                return true;
        }
    }

    static boolean touchesEip(Insn in) {
        return endsBlock(in);
    }

    /** Collects the instructions of a block starting at offset off of a decoded page; null if too short. */
    static Insn[] collect(Fast f, byte[] page, Insn[] code, int off) {
        List<Insn> list = new ArrayList<>();
        int o = off;
        while (list.size() < MAX_INSNS && o < 0x1000 && o - off < MAX_BYTES) {
            Insn in = code[o];
            if (in == null) {
                in = f.decodeAt(page, o);
                code[o] = in;
            }
            if (!compilable(in)) break;
            list.add(in);
            o += in.len;
            if (in.kind == Fast.K_JCC ? o + in.imm == off || o + in.imm < off : endsBlock(in)) break;
        }
        if (list.isEmpty()) return null;
        return list.toArray(new Insn[0]);
    }

    /** The code of a block: a hidden class made from the instructions' decoded fields only (see {@link CompiledBlocks}). */
    static BlockCode define(Insn[] ins) {
        byte[] cls = CLASSFILE.build(ClassDesc.of("org.lguest.cpu.impl.Blk"), cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withInterfaceSymbols(CD_CODE);
            cb.withMethodBody("<init>", MethodTypeDesc.of(CD_void), ClassFile.ACC_PUBLIC, code -> {
                code.aload(0);
                code.invokespecial(CD_Object, "<init>", MethodTypeDesc.of(CD_void));
                code.return_();
            });
            cb.withMethodBody("run", MT_RUN, ClassFile.ACC_PUBLIC, code -> emit(code, ins));
        });
        try {
            MethodHandles.Lookup l = LOOKUP.defineHiddenClass(cls, true);
            return (BlockCode) l.findConstructor(l.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("block compilation failed", t);
        }
    }

    private static void addEip(CodeBuilder code, int delta) {
        if (delta == 0) return;
        code.aload(1);
        code.dup();
        code.getfield(CD_FAST, "eip", CD_int);
        code.ldc(delta);
        code.iadd();
        code.putfield(CD_FAST, "eip", CD_int);
    }

    private static void emit(CodeBuilder code, Insn[] ins) {
        int pending = 0;
        int bytes = 0;
        for (Insn in : ins) bytes += in.len;
        Insn last = ins[ins.length - 1];
        // a block whose final Jcc jumps back to its own start runs as a loop until the branch falls through or the budget
        boolean loop = last.kind == Fast.K_JCC && last.imm == -bytes;
        java.lang.classfile.Label head = code.newLabel();
        code.labelBinding(head);
        for (int i = 0; i < ins.length; i++) {
            Insn in = ins[i];
            if (loop && i == ins.length - 1) {
                addEip(code, pending + in.len);
                java.lang.classfile.Label exit = code.newLabel();
                code.aload(1);
                code.ldc(in.op);
                code.ldc(in.imm);
                code.invokevirtual(CD_FAST, "hJccT", MethodTypeDesc.of(java.lang.constant.ConstantDescs.CD_boolean, CD_int, CD_int));
                code.ifeq(exit);
                long n = ins.length;
                code.aload(1);
                code.getfield(CD_FAST, "icount", java.lang.constant.ConstantDescs.CD_long);
                code.ldc(2 * n);
                code.ladd();
                code.aload(1);
                code.getfield(CD_FAST, "limit", java.lang.constant.ConstantDescs.CD_long);
                code.lcmp();
                code.ifgt(exit);
                code.aload(1);
                code.dup();
                code.getfield(CD_FAST, "icount", java.lang.constant.ConstantDescs.CD_long);
                code.ldc(n);
                code.ladd();
                code.putfield(CD_FAST, "icount", java.lang.constant.ConstantDescs.CD_long);
                code.goto_(head);
                code.labelBinding(exit);
                code.ldc(ins.length);
                code.ireturn();
                return;
            }
            if (in.kind == Fast.K_JCC && i < ins.length - 1) {
                // a conditional branch inside the block: leave when it is taken
                addEip(code, pending + in.len);
                pending = 0;
                java.lang.classfile.Label stay = code.newLabel();
                code.aload(1);
                code.ldc(in.op);
                code.ldc(in.imm);
                code.invokevirtual(CD_FAST, "hJccT", MethodTypeDesc.of(java.lang.constant.ConstantDescs.CD_boolean, CD_int, CD_int));
                code.ifeq(stay);
                code.ldc(i + 1);
                code.ireturn();
                code.labelBinding(stay);
                continue;
            }
            boolean faults = mayFault(in);
            boolean eip = touchesEip(in);
            if (faults) {
                addEip(code, pending);
                pending = 0;
                code.aload(1);
                code.aload(1);
                code.getfield(CD_FAST, "eip", CD_int);
                code.putfield(CD_FAST, "startEip", CD_int);
                code.aload(1);
                code.aload(1);
                code.getfield(CD_FAST, "r", CD_INT_ARRAY);
                code.iconst_4();
                code.iaload();
                code.putfield(CD_FAST, "startEsp", CD_int);
                code.aload(1);
                code.ldc(i);
                code.putfield(CD_FAST, "bpos", CD_int);
            }
            pending += in.len;
            if (faults || eip) {
                addEip(code, pending);
                pending = 0;
            }
            if (fullFlagWriter(in) && flagsDead(ins, i)) callNoFlags(code, in);
            else call(code, in, i);
        }
        addEip(code, pending);
        code.ldc(ins.length);
        code.ireturn();
    }

    /** Writes every arithmetic flag without reading any, and cannot fault. */
    static boolean fullFlagWriter(Insn in) {
        int k = in.kind;
        if ((k >= Fast.K_RR && k < Fast.K_RR + 8) || (k >= Fast.K_RI && k < Fast.K_RI + 8)) {
            int op = k & 7;
            return op != 2 && op != 3;
        }
        return k == Fast.K_SHL_RI || k == Fast.K_SHR_RI || k == Fast.K_SAR_RI;
    }

    /** Neither reads nor writes flags and cannot fault. */
    static boolean flagNeutral(Insn in) {
        switch (in.kind) {
            case Fast.K_MOV_RR32: case Fast.K_LEA: case Fast.K_NOP: case Fast.K_CDQ: case Fast.K_CWDE:
                return true;
            case Fast.K_MOV_R_IMM:
                return true;
            case Fast.K_MOVX:
                return !in.mem;
            default:
                return false;
        }
    }

    /** Whether instruction i's flags are overwritten before anything can observe them. */
    static boolean flagsDead(Insn[] ins, int i) {
        for (int j = i + 1; j < ins.length; j++) {
            if (fullFlagWriter(ins[j])) return true;
            if (!flagNeutral(ins[j])) return false;
        }
        return false;
    }

    private static void ea(CodeBuilder code, Insn in, boolean withSeg) {
        if (withSeg) code.ldc(in.seg);
        code.ldc(in.base);
        code.ldc(in.index);
        code.ldc(in.scale);
        code.ldc(in.disp);
    }

    /** An ALU form whose flags nobody reads (see {@link #flagsDead}): the helpers' "nf" variants. */
    private static void callNoFlags(CodeBuilder code, Insn in) {
        code.aload(1);
        callAlu(code, in, "nf");
    }

    /**
     * The ALU register/register, register/immediate and shift-by-immediate
     * forms: calls h{RR,RI,ShiftRI}+suffix and returns true; false for any other kind.
     */
    private static boolean callAlu(CodeBuilder code, Insn in, String suffix) {
        int k = in.kind;
        if (k >= Fast.K_RR && k < Fast.K_RR + 8) {
            code.ldc(k - Fast.K_RR);
            code.ldc(in.rm);
            code.ldc(in.reg);
            code.invokevirtual(CD_FAST, "hRR" + suffix, MT_III);
        } else if (k >= Fast.K_RI && k < Fast.K_RI + 8) {
            code.ldc(k - Fast.K_RI);
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hRI" + suffix, MT_III);
        } else if (k == Fast.K_SHL_RI || k == Fast.K_SHR_RI || k == Fast.K_SAR_RI) {
            code.ldc(k);
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hShiftRI" + suffix, MT_III);
        } else {
            return false;
        }
        return true;
    }

    private static void call(CodeBuilder code, Insn in, int i) {
        int k = in.kind;
        code.aload(1);
        if (callAlu(code, in, "")) {
            return;
        }
        if (k == Fast.K_MOV_RR32) {
            code.ldc(in.rm);
            code.ldc(in.reg);
            code.invokevirtual(CD_FAST, "hMovRR", MT_II);
        } else if (k == Fast.K_JCC) {
            code.ldc(in.op);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hJcc", MT_II);
        } else if (k == Fast.K_JMP_REL) {
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hJmp", MT_I);
        } else if (k == Fast.K_CALL_REL) {
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hCall", MT_I);
        } else if (k == Fast.K_RET) {
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hRet", MT_I);
        } else if (k == Fast.K_PUSH_R) {
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hPush", MT_I);
        } else if (k == Fast.K_POP_R) {
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hPop", MT_I);
        } else if ((k == Fast.K_INC_R || k == Fast.K_DEC_R) && in.sz == 4) {
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, k == Fast.K_INC_R ? "hInc" : "hDec", MT_I);
        } else if (k == Fast.K_MOV_R_IMM && in.sz == 4) {
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hMovRI", MT_II);
        } else if (k == Fast.K_LOAD32 || k == Fast.K_STORE32) {
            code.ldc(in.reg);
            ea(code, in, true);
            code.invokevirtual(CD_FAST, k == Fast.K_LOAD32 ? "hLoad32C" : "hStore32C", MT_6);
        } else if (k == Fast.K_LEA) {
            code.ldc(in.reg);
            ea(code, in, false);
            code.invokevirtual(CD_FAST, "hLeaC", MT_5);
        } else if ((k == Fast.K_ALU_RM_R || k == Fast.K_ALU_R_RM) && in.mem) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.reg);
            ea(code, in, true);
            code.invokevirtual(CD_FAST, k == Fast.K_ALU_RM_R ? "hAluMR" : "hAluRM", MT_8);
        } else if (k == Fast.K_ALU_RM_IMM && in.mem) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.imm);
            ea(code, in, true);
            code.invokevirtual(CD_FAST, "hAluMI", MT_8);
        } else if (k == Fast.K_MOV_RM_IMM && in.mem) {
            code.ldc(in.sz);
            code.ldc(in.imm);
            ea(code, in, true);
            code.invokevirtual(CD_FAST, "hMovMI", MT_7);
        } else if ((k == Fast.K_MOV_RM_R || k == Fast.K_MOV_R_RM) && in.mem) {
            code.ldc(in.sz);
            code.ldc(in.reg);
            ea(code, in, true);
            code.invokevirtual(CD_FAST, k == Fast.K_MOV_RM_R ? "hMovMR" : "hMovRM", MT_7);
        } else if (k == Fast.K_MOVX) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.reg);
            if (in.mem) {
                ea(code, in, true);
                code.invokevirtual(CD_FAST, "hMovxM", MT_8);
            } else {
                code.ldc(in.rm);
                code.invokevirtual(CD_FAST, "hMovxR", MT_IIII);
            }
        } else if (k == Fast.K_TEST_RM_IMM && !in.mem) {
            code.ldc(in.sz);
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hTestRI", MT_III);
        } else if (k == Fast.K_TEST_RM_R && !in.mem) {
            code.ldc(in.sz);
            code.ldc(in.rm);
            code.ldc(in.reg);
            code.invokevirtual(CD_FAST, "hTestRR", MT_III);
        } else if (k == Fast.K_SHIFT && !in.mem) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hShiftR", MT_IIII);
        } else if (k == Fast.K_IMUL_RM_IMM && !in.mem) {
            code.ldc(in.sz);
            code.ldc(in.reg);
            code.ldc(in.rm);
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hImulRI", MT_IIII);
        } else if (k == Fast.K_JMP_RM || k == Fast.K_CALL_RM) {
            if (in.mem) {
                ea(code, in, true);
                code.invokevirtual(CD_FAST, k == Fast.K_JMP_RM ? "hJmpM" : "hCallM", MT_5);
            } else {
                code.ldc(in.rm);
                code.invokevirtual(CD_FAST, k == Fast.K_JMP_RM ? "hJmpR" : "hCallR", MT_I);
            }
        } else if (k == Fast.K_PUSH_IMM) {
            code.ldc(in.imm);
            code.invokevirtual(CD_FAST, "hPushI", MT_I);
        } else if (k == Fast.K_IMUL_RM && !in.mem) {
            code.ldc(in.sz);
            code.ldc(in.reg);
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hImulRR", MT_III);
        } else if (k == Fast.K_CMOV && !in.mem) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.reg);
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hCmovRR", MT_IIII);
        } else if (k == Fast.K_SETCC && !in.mem) {
            code.ldc(in.op);
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hSetccR", MT_II);
        } else if (k == Fast.K_GRP3 && !in.mem) {
            code.ldc(in.op);
            code.ldc(in.sz);
            code.ldc(in.rm);
            code.invokevirtual(CD_FAST, "hGrp3R", MT_III);
        } else {
            String h = "exec";
            code.aload(2);
            code.ldc(i);
            code.aaload();
            code.invokevirtual(CD_FAST, h, MT_INSN);
        }
    }
}
