package org.lguest.cpu.diff;

import java.util.Map;
import java.util.TreeMap;

/**
 * Instruction groups (by {@link OpcodeTable.Form#mnemonic()}) the Java
 * processor is known to get wrong, each with the reason. The CI run leaves
 * them out and says so; {@code -Ddiff.includeKnownGaps=true} puts them back.
 * The goal is an empty map: remove an entry as soon as its group passes.
 */
final class KnownCpuGaps {


    /** Not an instruction group but a feature: with this key present, no initial state sets EFLAGS.AC. */
    static final String ALIGNMENT_CHECK = "feature #AC";
    /**
     * With this key present, memory destinations of read-modify-write instructions (lockable forms,
     * shifts, rotates, SHLD/SHRD) stay in the writable data area and are never addressed through CS.
     */
    static final String FAULTING_RMW = "feature faulting read-modify-write";
    /** With this key present, no instruction runs over the end of the code page into the unmapped page. */
    static final String PAGE_END_FETCH = "feature instruction crossing the code page end";
    /** With this key present, no instruction is made longer than 15 bytes with redundant prefixes. */
    static final String LENGTH_LIMIT = "feature 15-byte instruction limit";
    /** With this key present, x87 cases keep every exception masked (FLDCW, FLDENV, FRSTOR images). */
    static final String X87_UNMASKED = "feature x87 unmasked exceptions";
    /** With this key present, no single memory access straddles a mapped and an unmapped page. */
    static final String PAGE_CROSSING = "feature page-crossing access";

    static final Map<String, String> GAPS = new TreeMap<>(Map.ofEntries(
    ));

    static boolean excluded(OpcodeTable.Form form) {
        return GAPS.containsKey(form.mnemonic());
    }

    /** The features whose triggering states the generator leaves out. */
    static java.util.Set<String> features() {
        java.util.Set<String> s = new java.util.TreeSet<>();
        for (String k : GAPS.keySet()) {
            if (k.startsWith("feature ")) {
                s.add(k);
            }
        }
        return s;
    }

    private KnownCpuGaps() {
    }
}
