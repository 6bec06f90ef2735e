package org.lguest.launcher.impl.virtio;

/**
 * The numbers of virtio 1.0 over PCI, as Linux 4.9's
 * {@code include/uapi/linux/virtio_pci.h}, {@code virtio_config.h} and
 * {@code virtio_ring.h} define them, and the BAR0 layout the 4.x Launcher
 * ({@code tools/lguest/lguest.c}, {@code struct virtio_pci_mmio}) gave every
 * device: common configuration (56 bytes) at 0, the notify word at 56, the
 * ISR byte at 58, a padding byte, the device configuration at 60. One place
 * for them so the other files read as prose.
 */
final class VirtioPci {
    private VirtioPci() {
    }

    static final int VENDOR = 0x1AF4;
    /** A modern device's PCI device id is this plus its virtio type. */
    static final int DEVICE_BASE = 0x1040;
    static final int SUBSYSTEM_ID = 0x40;
    static final int REVISION = 1;

    // Capability types (virtio_pci_cap.cfg_type).
    static final int CAP_COMMON_CFG = 1;
    static final int CAP_NOTIFY_CFG = 2;
    static final int CAP_ISR_CFG = 3;
    static final int CAP_DEVICE_CFG = 4;
    static final int CAP_PCI_CFG = 5;
    /** PCI_CAP_ID_VNDR: every virtio capability is vendor-specific. */
    static final int CAP_ID_VENDOR = 0x09;

    // BAR0 layout (struct virtio_pci_common_cfg, then lguest's notify/isr/padding).
    static final int DEVICE_FEATURE_SELECT = 0;
    static final int DEVICE_FEATURE = 4;
    static final int DRIVER_FEATURE_SELECT = 8;
    static final int DRIVER_FEATURE = 12;
    static final int MSIX_CONFIG = 16;
    static final int NUM_QUEUES = 18;
    static final int DEVICE_STATUS = 20;
    static final int CONFIG_GENERATION = 21;
    static final int QUEUE_SELECT = 22;
    static final int QUEUE_SIZE = 24;
    static final int QUEUE_MSIX_VECTOR = 26;
    static final int QUEUE_ENABLE = 28;
    static final int QUEUE_NOTIFY_OFF = 30;
    static final int QUEUE_DESC_LO = 32;
    static final int QUEUE_DESC_HI = 36;
    static final int QUEUE_AVAIL_LO = 40;
    static final int QUEUE_AVAIL_HI = 44;
    static final int QUEUE_USED_LO = 48;
    static final int QUEUE_USED_HI = 52;
    static final int COMMON_LENGTH = 56;
    static final int NOTIFY = 56;
    static final int NOTIFY_LENGTH = 2;
    static final int ISR = 58;
    static final int ISR_LENGTH = 1;
    static final int PADDING = 59;
    static final int DEVICE_CONFIG = 60;

    /** No MSI-X vector (the device has no MSI-X capability: the guest uses the INTx line). */
    static final int NO_VECTOR = 0xFFFF;

    // Device status bits.
    static final int STATUS_ACKNOWLEDGE = 1;
    static final int STATUS_DRIVER = 2;
    static final int STATUS_DRIVER_OK = 4;
    static final int STATUS_FEATURES_OK = 8;

    // ISR bits.
    static final int ISR_QUEUE = 1;
    static final int ISR_CONFIG = 2;

    /** VIRTIO_F_VERSION_1: every device offers it; a driver that does not accept it is refused. */
    static final long F_VERSION_1 = 1L << 32;

    /** Largest (and initial) queue size, as the 4.x Launcher's VIRTQUEUE_NUM. */
    static final int QUEUE_SIZE_MAX = 256;

    /** The name of the common-configuration field at {@code offset}, for messages. */
    static String registerName(int offset) {
        return switch (offset) {
            case DEVICE_FEATURE_SELECT -> "device_feature_select";
            case DEVICE_FEATURE -> "device_feature";
            case DRIVER_FEATURE_SELECT -> "driver_feature_select";
            case DRIVER_FEATURE -> "driver_feature";
            case MSIX_CONFIG -> "msix_config";
            case NUM_QUEUES -> "num_queues";
            case DEVICE_STATUS -> "device_status";
            case CONFIG_GENERATION -> "config_generation";
            case QUEUE_SELECT -> "queue_select";
            case QUEUE_SIZE -> "queue_size";
            case QUEUE_MSIX_VECTOR -> "queue_msix_vector";
            case QUEUE_ENABLE -> "queue_enable";
            case QUEUE_NOTIFY_OFF -> "queue_notify_off";
            case QUEUE_DESC_LO -> "queue_desc_lo";
            case QUEUE_DESC_HI -> "queue_desc_hi";
            case QUEUE_AVAIL_LO -> "queue_avail_lo";
            case QUEUE_AVAIL_HI -> "queue_avail_hi";
            case QUEUE_USED_LO -> "queue_used_lo";
            case QUEUE_USED_HI -> "queue_used_hi";
            case NOTIFY -> "queue_notify";
            case ISR -> "isr";
            default -> null;
        };
    }

    /** The width of the field at {@code offset} of BAR0 below {@link #DEVICE_CONFIG}, or 0 when no field starts there. */
    static int registerWidth(int offset) {
        return switch (offset) {
            case DEVICE_FEATURE_SELECT, DEVICE_FEATURE, DRIVER_FEATURE_SELECT, DRIVER_FEATURE,
                    QUEUE_DESC_LO, QUEUE_DESC_HI, QUEUE_AVAIL_LO, QUEUE_AVAIL_HI, QUEUE_USED_LO, QUEUE_USED_HI -> 4;
            case MSIX_CONFIG, NUM_QUEUES, QUEUE_SELECT, QUEUE_SIZE, QUEUE_MSIX_VECTOR, QUEUE_ENABLE,
                    QUEUE_NOTIFY_OFF, NOTIFY -> 2;
            case DEVICE_STATUS, CONFIG_GENERATION, ISR -> 1;
            default -> 0;
        };
    }

    /** The mask of the low {@code size} bytes. */
    static int mask(int size) {
        return size == 4 ? -1 : (1 << (8 * size)) - 1;
    }

    /** Refuses a size other than 1, 2 or 4 (a host bug, not the guest's). */
    static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalArgumentException("access size " + size + " (must be 1, 2 or 4)");
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
