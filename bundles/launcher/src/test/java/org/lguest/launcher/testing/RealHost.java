package org.lguest.launcher.testing;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.launcher.Guest;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.lg.impl.DmaRouterImpl;
import org.lguest.lg.impl.LguestControlComponent;
import org.lguest.lg.impl.ParavirtOpsImpl;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * The real hypervisor and Launcher without OSGi: the CPU, the MMU (tracked,
 * so a test can see that everything was released), the Switcher and
 * lg-module's components made directly, the Launcher over them, and a
 * recording console driver. Device tests add their own driver and start
 * guests on {@link #launcher}; {@link #close()} stops them all.
 */
public final class RealHost implements AutoCloseable {
    /** The guest kernel built from guest/ (the system property lguest.guest.kernel, as the poms set it). */
    public static final Path GUEST_KERNEL = Path.of(System.getProperty("lguest.guest.kernel",
            "../../guest/target/lguest-guest.elf"));

    public final TrackingMmu mmu = new TrackingMmu();
    public final LguestControlComponent control;
    public final RecordingDriver console = new RecordingDriver();
    public final LauncherCore launcher;

    public RealHost() {
        DmaRouterImpl router = new DmaRouterImpl();
        control = new LguestControlComponent(mmu, new SwitcherComponent(new CpuFactoryImpl()), new ParavirtOpsImpl(router), new org.lguest.lg.impl.Paravirt4(),
                router);
        launcher = new LauncherCore(() -> mmu, () -> control);
        launcher.addDriver("console", console, 0);
    }

    /** What guest {@code g} printed, over every console back end it had (a swap opens another). */
    public String consoleOf(Guest g) {
        StringBuilder sb = new StringBuilder();
        for (RecordingDriver.BackEnd b : console.opened) {
            if (b.context.guestId() == g.id()) {
                sb.append(b.output.toString()); // a snapshot: StringBuffer.toString is atomic, appending the buffer itself is not
            }
        }
        return sb.toString();
    }

    /** Waits for {@code g} to end; a guest that does not is an AssertionError with its console. */
    public Guest.End awaitEnd(Guest g, int seconds) throws Exception {
        try {
            return g.ending().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("guest " + g.id() + " did not end within " + seconds + " s; state " + g.state()
                    + "; console:\n" + consoleOf(g), e);
        }
    }

    /** Waits until {@code g} printed {@code text}; a guest that ends or never does is an AssertionError with its console. */
    public void awaitConsole(Guest g, String text, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!consoleOf(g).contains(text)) {
            if (System.nanoTime() > deadline || g.state() != Guest.State.RUNNING) {
                throw new AssertionError("guest " + g.id() + " never printed \"" + text + "\" (" + g.state()
                        + "); console:\n" + consoleOf(g));
            }
            Thread.sleep(20);
        }
    }

    /**
     * Types {@code line} at {@code g}'s console once the guest takes it (a
     * Linux guest's serial port takes input only while its driver listens);
     * a guest that never does, or ends, is an AssertionError with its console.
     */
    public void type(Guest g, String line) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!g.input("console", line.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            if (System.nanoTime() > deadline || g.state() != Guest.State.RUNNING) {
                throw new AssertionError("the guest never took console input (" + g.state() + "):\n" + consoleOf(g));
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        launcher.shutdown();
        control.deactivate();
    }
}
