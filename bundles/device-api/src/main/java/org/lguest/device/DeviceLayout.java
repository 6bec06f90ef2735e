package org.lguest.device;

/**
 * What a device looks like to the guest before it runs: the fields of its
 * descriptor in the device page, and where its pages come from.
 *
 * <p>A device's pages are private to its guest, unless {@code sharedRegion}
 * names a shared region: then its pages are the frames of that region,
 * which every device naming it (in any guest of this Launcher) holds, the
 * way 2.6.23 Launchers started with {@code --sharenet=FILE} map one file.
 * The Launcher makes the region at its first use, with {@code pages} frames,
 * and forgets it when the last device holding it goes. Each holder gets a
 * member number, the lowest free one (see
 * {@link DeviceContext#sharedMember()}); the Launcher puts it in the low
 * bits of the descriptor's features, as 2.6.23 put a guest's slot on the
 * shared network there.
 *
 * @param type         the descriptor's type (org.lguest.lg.abi.DevicePage.TYPE_*)
 * @param features     the descriptor's features (with a shared region: the bits above the member number)
 * @param pages        pages of device memory ({@code num_pages})
 * @param sharedRegion the shared region's name, or {@code null} for private pages
 */
public record DeviceLayout(int type, int features, int pages, String sharedRegion) {
    /** The most members a shared region has (its member numbers are 0 .. MAX_MEMBERS - 1). */
    public static final int MAX_SHARED_MEMBERS = 256;

    public DeviceLayout {
        if (type <= 0 || type > 0xFFFF) {
            throw new IllegalArgumentException("device type " + type + " is not a descriptor type (1..65535)");
        }
        if ((features & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("features 0x" + Integer.toHexString(features) + " do not fit 16 bits");
        }
        if (pages < 0 || pages > 0xFFFF) {
            throw new IllegalArgumentException(pages + " device pages");
        }
        if (sharedRegion != null && (sharedRegion.isEmpty() || pages == 0)) {
            throw new IllegalArgumentException("a shared region needs a name and at least one page");
        }
        if (sharedRegion != null && (features & (MAX_SHARED_MEMBERS - 1)) != 0) {
            throw new IllegalArgumentException("the low bits of a shared device's features carry its member number");
        }
    }

    /** A device with private pages (or none). */
    public static DeviceLayout of(int type, int features, int pages) {
        return new DeviceLayout(type, features, pages, null);
    }

    /** A device whose pages are the shared region {@code name}. */
    public static DeviceLayout shared(int type, int features, int pages, String name) {
        return new DeviceLayout(type, features, pages, name);
    }

    public boolean isShared() {
        return sharedRegion != null;
    }
}
