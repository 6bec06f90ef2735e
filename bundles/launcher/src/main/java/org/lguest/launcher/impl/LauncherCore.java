package org.lguest.launcher.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.lguest.device.DeviceDriver;
import org.lguest.device.DeviceLayout;
import org.lguest.lg.abi.DevicePage;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.impl.serial.Uart16450;
import org.lguest.launcher.impl.virtio.PciBus;
import org.lguest.launcher.impl.virtio.VirtioBlock;
import org.lguest.launcher.impl.virtio.VirtioNet;
import org.lguest.launcher.impl.virtio.VirtioConsole;
import org.lguest.launcher.impl.virtio.VirtioPciDevice;
import org.lguest.lg.LguestControl;
import org.lguest.lg.abi.ControlRequests;
import org.lguest.mmu.Mmu;

/**
 * The Launcher without OSGi: the guest lifecycle over an MMU, a control
 * interface and the device drivers it is told about. The DS component
 * {@link LauncherComponent} feeds it services; tests use it directly.
 */
public final class LauncherCore implements Guests {
    private static final System.Logger LOG = System.getLogger(LauncherCore.class.getName());

    /** Bytes of guest output a device holds while it has no driver. */
    public static final int DEFAULT_HELD_LIMIT = 64 * 1024;
    /** How long a guest waits for a driver once the held output is full. */
    public static final long DEFAULT_DRIVER_WAIT_MILLIS = 30_000;

    private final Supplier<Mmu> mmu;
    private final Supplier<LguestControl> control;
    private final int heldLimit;
    private final long driverWaitMillis;
    /** Output that waited this long for a driver is answered by its device's abandon action. */
    static final long DEFAULT_REQUEST_TIMEOUT_MILLIS = 30_000;
    private final java.util.concurrent.ScheduledExecutorService requestTimer;
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final Map<Integer, GuestRunner> guests = new ConcurrentSkipListMap<>();
    private final List<Driver> drivers = new CopyOnWriteArrayList<>();
    private final SharedRegions shared = new SharedRegions();

    private record Driver(String type, DeviceDriver driver, int ranking, long order) {
    }

    private final AtomicInteger driverOrder = new AtomicInteger();

    public LauncherCore(Supplier<Mmu> mmu, Supplier<LguestControl> control) {
        this(mmu, control, DEFAULT_HELD_LIMIT, DEFAULT_DRIVER_WAIT_MILLIS);
    }

    public LauncherCore(Supplier<Mmu> mmu, Supplier<LguestControl> control, int heldLimit, long driverWaitMillis) {
        this(mmu, control, heldLimit, driverWaitMillis, DEFAULT_REQUEST_TIMEOUT_MILLIS);
    }

    /**
     * @param requestTimeoutMillis how long the guest's output for a device may wait for a driver before the
     *        device's abandon action answers it (DeviceContext.onAbandon)
     */
    public LauncherCore(Supplier<Mmu> mmu, Supplier<LguestControl> control, int heldLimit, long driverWaitMillis,
            long requestTimeoutMillis) {
        this.mmu = mmu;
        this.control = control;
        this.heldLimit = heldLimit;
        this.driverWaitMillis = driverWaitMillis;
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
        long period = Math.max(10, Math.min(1000, requestTimeoutMillis / 4));
        this.requestTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lguest-request-timeout");
            t.setDaemon(true);
            return t;
        });
        requestTimer.scheduleWithFixedDelay(() -> expireHeld(timeoutNanos), period, period, TimeUnit.MILLISECONDS);
    }

    private void expireHeld(long timeoutNanos) {
        long now = System.nanoTime();
        for (GuestRunner g : guests.values()) {
            for (LauncherDevice d : g.devices()) {
                try {
                    d.expireHeld(now, timeoutNanos);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "guest {0}: the request timeout failed: {1}", g.id(), e.toString());
                }
            }
        }
    }

    // ---- drivers ---------------------------------------------------------

    /** A driver service appeared: it serves devices of {@code type} that have no back end. */
    public void addDriver(String type, DeviceDriver driver, int ranking) {
        drivers.add(new Driver(type, driver, ranking, driverOrder.incrementAndGet()));
        for (GuestRunner g : guests.values()) {
            for (LauncherDevice d : g.devices()) {
                if (d.typeName().equals(type) && !d.hasBackEnd() && g.state() == Guest.State.RUNNING) {
                    attach(g, d);
                }
            }
        }
    }

    /** A driver service went away: its back ends save their state and close; another driver of the type takes over if there is one. */
    public void removeDriver(DeviceDriver driver) {
        drivers.removeIf(d -> d.driver() == driver);
        for (GuestRunner g : guests.values()) {
            for (LauncherDevice d : g.devices()) {
                if (d.detach(driver) && g.state() == Guest.State.RUNNING) {
                    attach(g, d);
                }
            }
        }
    }

    private Optional<DeviceDriver> driverFor(String type) {
        return drivers.stream().filter(d -> d.type().equals(type))
                .max(Comparator.comparingInt(Driver::ranking).thenComparing(Driver::order, Comparator.reverseOrder()))
                .map(Driver::driver);
    }

    private void attach(GuestRunner g, LauncherDevice d) {
        driverFor(d.typeName()).ifPresent(driver -> {
            try {
                d.attach(driver);
            } catch (IOException | RuntimeException e) {
                g.event(d.label() + ": the " + d.typeName() + " driver could not open a back end: " + e.getMessage());
            }
        });
    }

    // ---- Guests ------------------------------------------------------------

    @Override
    public Guest start(GuestSpec spec) throws LaunchException {
        GuestImage.checkMemorySize(spec.memoryBytes(), GuestImage.MAX_MEMORY, GuestImage.ANY_GUEST);
        LguestControl lguest = control.get();
        if (lguest == null) {
            throw new LaunchException("no hypervisor: the control interface (LguestControl, bundle org.lguest.lg) is not available");
        }
        Mmu memoryUnit = mmu.get();
        if (memoryUnit == null) {
            throw new LaunchException("no MMU: the Mmu service (bundle org.lguest.mmu) is not available");
        }
        if (lguest.guests().size() >= lguest.maxGuests()) {
            throw new LaunchException("no free guest slot: the host runs at most " + lguest.maxGuests()
                    + " guests (configuration org.lguest.lg, maxGuests)");
        }
        byte[] kernel;
        try {
            kernel = Files.readAllBytes(spec.kernel());
        } catch (NoSuchFileException e) {
            throw new LaunchException("no kernel at " + spec.kernel());
        } catch (IOException e) {
            throw new LaunchException("cannot read the kernel " + spec.kernel() + ": " + e.getMessage(), e);
        }

        if (LinuxKernel.isLinux4(kernel)) {
            return startLinux(spec, lguest, memoryUnit, kernel);
        }
        if (spec.initrd() != null) {
            throw new LaunchException(spec.kernel() + " is a 2.6.23 (DMA-era) guest kernel: it takes no initrd");
        }
        List<DeviceSpec> devices = new ArrayList<>(spec.devices());
        if (devices.stream().noneMatch(d -> d.type().equals("console"))) {
            devices.add(DeviceSpec.console("buffer"));  // 2.6.23 always adds the console, last
        }
        List<GuestImage.DeviceLayout> layouts = new ArrayList<>();
        List<DeviceDriver> chosen = new ArrayList<>();
        List<SharedRegions.Membership> memberships = new ArrayList<>();
        GuestImage image;
        try {
            for (DeviceSpec d : devices) {
                DeviceDriver driver = driverFor(d.type()).orElseThrow(() -> new LaunchException("no driver for the "
                        + d.type() + " device (device types are those of the active driver services: " + driverTypes() + ")"));
                chosen.add(driver);
                DeviceLayout layout;
                try {
                    layout = driver.layout(d.configuration());
                } catch (IllegalArgumentException e) {
                    throw new LaunchException("the " + d.type() + " device: " + e.getMessage(), e);
                }
                String name = d.type() + layouts.size();
                if (layout.isShared()) {
                    SharedRegions.Membership joined = shared.join(memoryUnit, layout.sharedRegion(), layout.pages());
                    memberships.add(joined);
                    layouts.add(new GuestImage.DeviceLayout(name, layout.type(), layout.features() | joined.member(),
                            layout.pages(), joined.region()));
                } else {
                    memberships.add(null);
                    layouts.add(new GuestImage.DeviceLayout(name, layout.type(), layout.features(), layout.pages()));
                }
            }
            if (layouts.size() < DevicePage.MAX_DEVICES) {
                // The power button, last (our extension: lguest:shutdown and lguest:reboot press it).
                layouts.add(new GuestImage.DeviceLayout("power", DevicePage.TYPE_POWER, 0, 0));
            }
            image = GuestImage.build(memoryUnit, spec.kernel().toString(), kernel, spec.memoryBytes(), spec.commandLine(), layouts);
        } catch (LaunchException | RuntimeException e) {
            leaveAll(memberships);
            throw e;
        }
        int id = nextId.getAndIncrement();
        GuestRunner runner = new GuestRunner(id, spec, image, lguest, this::ended);
        if (layouts.size() > devices.size()) {
            int slot = devices.size();
            runner.powerButton(image.devicePageAddress + slot * DevicePage.DESCRIPTOR_SIZE, DevicePage.irqOf(slot));
        }
        try {
            for (int i = 0; i < devices.size(); i++) {
                DeviceSpec d = devices.get(i);
                int key = chosen.get(i).key(image.devicePfns[i] << 12);
                SharedRegions.Membership membership = memberships.get(i);
                LauncherDevice device = new LauncherDevice(runner, i, d.type(), layouts.get(i).type(), key,
                        image.devicePfns[i], layouts.get(i).pages(), d.configuration(), heldLimit, driverWaitMillis,
                        membership == null ? -1 : membership.member(),
                        membership == null ? () -> { } : () -> shared.leave(membership));
                memberships.set(i, null); // the device leaves when it closes
                runner.addDevice(device);
                try {
                    device.attach(chosen.get(i));
                } catch (IOException | RuntimeException e) {
                    throw new LaunchException("the " + d.type() + " device could not open its back end: " + e.getMessage(), e);
                }
            }
        } catch (LaunchException e) {
            runner.abandon();
            leaveAll(memberships);
            throw e;
        }
        return launch(id, runner, spec);
    }

    /** A 4.x (virtio-era) guest: its image and its PCI devices. */
    private Guest startLinux(GuestSpec spec, LguestControl lguest, Mmu memoryUnit, byte[] kernelBytes) throws LaunchException {
        LinuxKernel kernel = LinuxKernel.parse(spec.kernel().toString(), kernelBytes);
        byte[] initrd = null;
        if (spec.initrd() != null) {
            try {
                initrd = Files.readAllBytes(spec.initrd());
            } catch (NoSuchFileException e) {
                throw new LaunchException("no initrd at " + spec.initrd());
            } catch (IOException e) {
                throw new LaunchException("cannot read the initrd " + spec.initrd() + ": " + e.getMessage(), e);
            }
        }
        DeviceSpec console = DeviceSpec.console("buffer");
        List<DeviceSpec> others = new ArrayList<>();
        for (DeviceSpec d : spec.devices()) {
            switch (d.type()) {
                case "console" -> console = d;
                case "block", "net" -> others.add(d);
                default -> throw new LaunchException("a " + d.type()
                        + " device for a 4.x (virtio) guest: a 4.x guest takes console, block and net devices");
            }
        }
        if (others.size() > LINUX_IRQ_LAST - LINUX_IRQ_FIRST + 1) {
            throw new LaunchException(others.size() + " devices: a 4.x guest has interrupt lines for "
                    + (LINUX_IRQ_LAST - LINUX_IRQ_FIRST + 1) + " besides its console");
        }
        DeviceDriver consoleDriver = driverFor("console").orElseThrow(() -> new LaunchException(
                "no driver for the console device (device types are those of the active driver services: " + driverTypes() + ")"));
        List<DeviceDriver> drivers = new ArrayList<>();
        for (DeviceSpec d : others) {
            drivers.add(driverFor(d.type()).orElseThrow(() -> new LaunchException("no driver for the " + d.type()
                    + " device (device types are those of the active driver services: " + driverTypes() + ")")));
        }
        String commandLine = LinuxKernel.commandLine(spec.commandLine());
        GuestImage image = GuestImage.buildLinux(memoryUnit, spec.kernel().toString(), kernel, spec.memoryBytes(),
                commandLine, initrd);
        int id = nextId.getAndIncrement();
        GuestRunner runner = new GuestRunner(id, spec, image, lguest, this::ended);
        PciBus bus = new PciBus(GuestImage.IO_WINDOW_BASE & 0xFFFFFFFFL);
        // The virtio console first: 00:01.0, where Linux's early console looks for it. Its line is COM1's
        // IRQ 4, shared with the serial port: Linux only gives an interrupt line a handler when a PCI
        // device names it, so this is how COM1's interrupt comes to work (LinuxKernel.commandLine).
        LinuxConsole link = new LinuxConsole(LinuxKernel.serialIsConsole(commandLine));
        LauncherDevice device = new LauncherDevice(runner, 0, "console", VirtioConsole.TYPE, console.configuration(),
                heldLimit, driverWaitMillis, link::deliver);
        VirtioPciDevice transport = new VirtioPciDevice(link.personality(), image.memory, Uart16450.COM1_IRQ,
                runner::execute, runner::raiseIrq);
        Uart16450 serial = new Uart16450(Uart16450.COM1_IRQ, runner::raiseIrq, link::serialOutput);
        link.bind(device, serial);
        bus.add(transport);
        bus.attach(Uart16450.COM1_BASE, Uart16450.PORTS, serial);
        runner.addDevice(device);
        runner.setIo(bus);
        runner.beforeEnd(link::flush);
        try {
            device.attach(consoleDriver);
            for (int i = 0; i < others.size(); i++) {
                addVirtioDevice(runner, bus, i + 1, LINUX_IRQ_FIRST + i, others.get(i), drivers.get(i));
            }
        } catch (LaunchException e) {
            runner.abandon();
            throw e;
        } catch (IOException | RuntimeException e) {
            runner.abandon();
            throw new LaunchException("the console device could not open its back end: " + e.getMessage(), e);
        }
        return launch(id, runner, spec);
    }

    /** A 4.x guest's interrupt lines for devices after the console (which shares COM1's 4): 5 to 15 (LGUEST_IRQS is 16). */
    static final int LINUX_IRQ_FIRST = 5, LINUX_IRQ_LAST = 15;

    /**
     * A virtio device of a 4.x guest after the console: its Launcher device
     * opened by {@code driver} (whose model publishes its features and
     * configuration while it opens), then its PCI function in the next slot.
     */
    private void addVirtioDevice(GuestRunner runner, PciBus bus, int index, int irq, DeviceSpec d, DeviceDriver driver)
            throws LaunchException {
        boolean net = d.type().equals("net");
        AtomicReference<VirtioPciDevice> transport = new AtomicReference<>();
        // Input (a network card's received frames) goes into the card's receive queue; a disk has none.
        LauncherDevice device = new LauncherDevice(runner, index, d.type(), net ? VirtioNet.TYPE : VirtioBlock.TYPE,
                d.configuration(), heldLimit, driverWaitMillis,
                net ? (key, data) -> transport.get().deliver(key, data) : (key, data) -> -1);
        runner.addDevice(device);
        try {
            device.attach(driver);
        } catch (IOException | RuntimeException e) {
            throw new LaunchException("the " + d.type() + " device could not open its back end: " + e.getMessage(), e);
        }
        if (device.virtioFeatures() == -1 || device.virtioConfiguration() == null) {
            throw new LaunchException("the " + d.type() + " driver " + LauncherDevice.driverName(driver)
                    + " gave no virtio configuration: it cannot serve a 4.x guest");
        }
        java.util.function.Consumer<org.lguest.device.DeviceRequest> requests = request -> {
            try {
                device.output(LauncherRequest.of(request));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the guest is being stopped
            }
        };
        java.util.function.Consumer<byte[]> configure;
        VirtioPciDevice pci;
        if (net) {
            VirtioNet card = new VirtioNet(device.virtioFeatures(), device.virtioConfiguration(), requests);
            pci = new VirtioPciDevice(card, runner.memory(), irq, runner::execute, runner::raiseIrq);
            configure = card::configure;
        } else {
            // A request the request timeout abandons (no driver came back): virtio-blk's IOERR in its status byte.
            device.onVirtioAbandon(r -> r.answerWith(r.writableLength() - 1,
                    ByteBuffer.wrap(new byte[] {VirtioBlock.STATUS_IOERR}), 1));
            VirtioBlock disk = new VirtioBlock(device.virtioFeatures(), device.virtioConfiguration(), requests);
            pci = new VirtioPciDevice(disk, runner.memory(), irq, runner::execute, runner::raiseIrq);
            configure = disk::configure;
        }
        transport.set(pci);
        device.onVirtioConfigChange(config -> runner.execute(() -> {
            configure.accept(config);
            pci.configChanged();
        }));
        bus.add(pci);
    }

    /** Lists the guest and starts its thread; a guest that cannot start is forgotten. */
    private Guest launch(int id, GuestRunner runner, GuestSpec spec) throws LaunchException {
        guests.put(id, runner);
        try {
            runner.start();
        } catch (LaunchException e) {
            guests.remove(id);
            throw e;
        }
        LOG.log(System.Logger.Level.DEBUG, "guest {0} started: {1}", id, spec);
        return runner;
    }

    private void leaveAll(List<SharedRegions.Membership> memberships) {
        for (SharedRegions.Membership m : memberships) {
            if (m != null) {
                shared.leave(m);
            }
        }
    }

    /** Members the shared region {@code name} has now (for tests and listings). */
    public int sharedMembers(String name) {
        return shared.members(name);
    }

    private String driverTypes() {
        return drivers.stream().map(Driver::type).distinct().sorted().reduce((x, y) -> x + ", " + y).orElse("none");
    }

    /** The Launcher is going away: no guest is restarted. */
    private volatile boolean stopping;

    /**
     * Ended guests stay listed (with their reason) until removed, except one
     * whose end is a restart (a reboot asked for, or one a 4.x guest made):
     * it is started again with the same specification, under a new id.
     */
    private void ended(GuestRunner g) {
        Guest.End end = g.ending().toCompletableFuture().getNow(null);
        if (end == null || !g.endsInRestart(end) || stopping || guests.get(g.id()) != g) {
            return;
        }
        if (!restartAllowed(g.spec().name())) {
            LOG.log(System.Logger.Level.ERROR, "guest {0} ({1}) asked to restart {2} times within {3} s: left powered off",
                    g.id(), g.spec().name(), MAX_RESTARTS, RESTART_WINDOW_NANOS / 1_000_000_000L);
            return;
        }
        Thread.ofVirtual().name("lguest-restart-" + g.id()).start(() -> {
            if (guests.get(g.id()) != g) {
                return; // removed meanwhile (lguest:destroy): not restarted
            }
            try {
                Guest again = start(g.spec());
                guests.remove(g.id(), g); // the old guest gives way once the new one runs (kept listed when it cannot)
                if (stopping) {
                    remove(again.id()); // the Launcher went away while it started
                    return;
                }
                LOG.log(System.Logger.Level.INFO, "guest {0} ({1}) restarted as guest {2}", g.id(), g.spec().name(), again.id());
            } catch (LaunchException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "guest {0} ({1}) asked to restart, and could not start again: {2}",
                        g.id(), g.spec().name(), e.getMessage());
            }
        });
    }

    /** A guest that keeps restarting (a 4.x reboot in its init, panic=N) is left off after this many in the window. */
    static final int MAX_RESTARTS = 5;
    static final long RESTART_WINDOW_NANOS = 60_000_000_000L;
    private final Map<String, java.util.ArrayDeque<Long>> restarts = new java.util.HashMap<>();

    private synchronized boolean restartAllowed(String name) {
        long now = System.nanoTime();
        java.util.ArrayDeque<Long> times = restarts.computeIfAbsent(name, n -> new java.util.ArrayDeque<>());
        while (!times.isEmpty() && now - times.peekFirst() > RESTART_WINDOW_NANOS) {
            times.pollFirst();
        }
        if (times.size() >= MAX_RESTARTS) {
            return false;
        }
        times.addLast(now);
        return true;
    }

    @Override
    public List<Guest> list() {
        return List.copyOf(guests.values());
    }

    @Override
    public Optional<Guest> get(int id) {
        return Optional.ofNullable(guests.get(id));
    }

    @Override
    public boolean remove(int id) {
        GuestRunner g = guests.remove(id);
        if (g == null) {
            return false;
        }
        g.stop();
        return true;
    }

    /** Stops every guest (the Launcher is going away). */
    public void shutdown() {
        stopping = true;
        requestTimer.shutdownNow();
        for (GuestRunner g : guests.values()) {
            g.stop();
        }
        guests.clear();
    }

    /** Recent warnings of a guest (unknown DMA keys, driver timeouts), for the shell. */
    public List<String> events(int id) {
        GuestRunner g = guests.get(id);
        return g == null ? List.of() : g.events();
    }
}
