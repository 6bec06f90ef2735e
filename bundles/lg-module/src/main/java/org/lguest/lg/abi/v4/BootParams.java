package org.lguest.lg.abi.v4;

/**
 * The Linux boot protocol's {@code struct boot_params} ("zero page") as a
 * 4.x lguest Launcher fills it at guest-physical 0: offsets of the fields it
 * sets, and the values lguest needs. Everything else stays 0, except what a
 * bzImage's own setup header carries.
 */
public final class BootParams {
    public static final int SIZE = 4096;
    /** u8 apm_bios_info.version: 0. */
    public static final int APM_BIOS_VERSION = 0x40;
    /** u64 tboot_addr: 0. */
    public static final int TBOOT_ADDR = 0x58;
    /** u8: number of e820 entries. */
    public static final int E820_ENTRIES = 0x1E8;
    /** The setup header inside boot_params (a bzImage's starts at file offset 0x1F1). */
    public static final int SETUP_HEADER = 0x1F1;
    /** u8 setup_sects (bzImage: 0 means 4). */
    public static final int SETUP_SECTS = 0x1F1;
    /** u32 "HdrS". */
    public static final int HEADER_MAGIC = 0x202;
    public static final int HDRS = 0x53726448;
    /** u16 boot protocol version; startup_32 needs at least 2.07. */
    public static final int VERSION = 0x206;
    public static final int PROTOCOL_2_07 = 0x207;
    /** u8 type_of_loader: 0xFF, undefined. */
    public static final int TYPE_OF_LOADER = 0x210;
    /** u8 loadflags. */
    public static final int LOADFLAGS = 0x211;
    /** loadflags bit: the loader set up segments; startup_32 leaves them alone. */
    public static final int KEEP_SEGMENTS = 0x40;
    /** u32 code32_start: where a bzImage's protected-mode code goes (0x100000). */
    public static final int CODE32_START = 0x214;
    /** u32 ramdisk_image, ramdisk_size. */
    public static final int RAMDISK_IMAGE = 0x218;
    public static final int RAMDISK_SIZE = 0x21C;
    /** u32 cmd_line_ptr. */
    public static final int CMD_LINE_PTR = 0x228;
    /** u32 kernel_alignment. */
    public static final int KERNEL_ALIGNMENT = 0x230;
    /** u32 cmdline_size (protocol 2.06+): longest command line the kernel takes. */
    public static final int CMDLINE_SIZE = 0x238;
    /** u32 hardware_subarch: {@link #SUBARCH_LGUEST}. */
    public static final int HARDWARE_SUBARCH = 0x23C;
    public static final int SUBARCH_LGUEST = 1;
    /** u32 init_size: memory the kernel needs from its load address while it starts. */
    public static final int INIT_SIZE = 0x260;
    /** The e820 map: 20-byte entries {u64 addr, u64 size, u32 type}. */
    public static final int E820_MAP = 0x2D0;
    public static final int E820_RAM = 1;
    /** Where the 4.x Launcher puts the command line, and how much the kernel copies. */
    public static final int COMMAND_LINE_ADDRESS = 0x1000;
    public static final int COMMAND_LINE_MAX = 2047;

    private BootParams() {
    }
}
