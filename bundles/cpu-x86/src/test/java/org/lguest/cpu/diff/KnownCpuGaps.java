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

    static final Map<String, String> GAPS = new TreeMap<>(Map.ofEntries(
    ));

    static boolean excluded(OpcodeTable.Form form) {
        return GAPS.containsKey(form.mnemonic());
    }

    private KnownCpuGaps() {
    }
}
