package org.lguest.cpu.impl;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuFactory;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.compile.CompiledBlocks;
import org.osgi.service.component.annotations.Component;

/** The CPU service: one new {@link X86Cpu} per call; the processors it makes share their compiled blocks. */
@Component(service = CpuFactory.class)
public final class CpuFactoryImpl implements CpuFactory {
    private final CompiledBlocks blocks = new CompiledBlocks();

    @Override
    public Cpu create(PhysicalMemory memory, IoPorts ports) {
        return new X86Cpu(memory, ports, blocks);
    }

    /** The shared compiled code (for tests). */
    CompiledBlocks compiledBlocks() {
        return blocks;
    }
}
