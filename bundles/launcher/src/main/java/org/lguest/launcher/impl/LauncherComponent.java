package org.lguest.launcher.impl;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.lguest.device.DeviceDriver;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.lguest.lg.LguestControl;
import org.lguest.mmu.Mmu;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The Launcher as a service. The MMU and the control interface are optional
 * dynamic references so that the service (and the shell commands) are always
 * there and a start without a hypervisor fails with a clear message; device
 * drivers come and go while guests run (the hot-swap contract).
 */
@Component(service = Guests.class, immediate = true)
public final class LauncherComponent implements Guests {
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Mmu mmu;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LguestControl control;

    private final LauncherCore core = new LauncherCore(() -> mmu, () -> control);

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            target = "(" + DeviceDriver.TYPE + "=*)")
    void addDriver(DeviceDriver driver, Map<String, Object> properties) {
        Object ranking = properties.get(Constants.SERVICE_RANKING);
        core.addDriver(String.valueOf(properties.get(DeviceDriver.TYPE)), driver, ranking instanceof Integer r ? r : 0);
    }

    void removeDriver(DeviceDriver driver) {
        core.removeDriver(driver);
    }

    @Activate
    void activate() {
        // nothing: guests start on request
    }

    @Deactivate
    void deactivate() {
        core.shutdown();
    }

    LauncherCore core() {
        return core;
    }

    @Override
    public Guest start(GuestSpec spec) throws LaunchException {
        return core.start(spec);
    }

    @Override
    public List<Guest> list() {
        return core.list();
    }

    @Override
    public Optional<Guest> get(int id) {
        return core.get(id);
    }

    @Override
    public boolean remove(int id) {
        return core.remove(id);
    }
}
