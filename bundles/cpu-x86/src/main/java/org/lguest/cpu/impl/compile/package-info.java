/**
 * The compiling tier: the hot code of a page becomes one JVM method.
 *
 * <p>{@link org.lguest.cpu.impl.compile.RegionCompiler} plans a region from
 * a hot instruction's pre-decoded records (following fall-throughs and
 * jumps within its function and page; a call to a function of the page is a
 * nested JVM call of the callee's own region, through
 * {@link org.lguest.cpu.impl.interpret.Fast#callFunction}) and generates its class with
 * {@code java.lang.classfile}; the class is a hidden class defined through
 * this package's own {@code Lookup}, so its name is in this package and it
 * reaches the processor only through public members: the fields listed in
 * RegionCompiler (checked by {@link org.lguest.cpu.impl.compile.Handlers},
 * which also names every method generated code calls by a method
 * reference). {@link org.lguest.cpu.impl.compile.BlockCode} is the shape of
 * a region's code, {@link org.lguest.cpu.impl.compile.Block} a region as a
 * code page holds it, and {@link org.lguest.cpu.impl.compile.CompiledBlocks}
 * shares the generated classes between processors of one CPU service.
 */
package org.lguest.cpu.impl.compile;
