package org.lguest.launcher.impl.serial;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

import org.lguest.launcher.impl.virtio.PortDevice;

/**
 * The PC's first serial port (COM1: ports 0x3F8..0x3FF, IRQ 4) as a
 * National Semiconductor 16450: the console a 4.x Linux guest opens as
 * {@code /dev/console} (see {@code LinuxKernel.commandLine} for why it is
 * not the virtio console), with just enough of the chip for Linux's 8250
 * driver to find it, print through it polled (the kernel console) and
 * interrupt-driven (the tty), and read typed input from it.
 *
 * <h2>Registers (offset from the base; DLAB is LCR bit 7)</h2>
 * <pre>
 *   0  read: RBR, the next input byte    write: THR, an output byte   (DLAB: divisor low)
 *   1  IER: bit 0 input available, bit 1 transmitter empty, 2 and 3 kept, not used   (DLAB: divisor high)
 *   2  read: IIR, the highest pending interrupt   write: FCR, ignored (a 16450 has no FIFO)
 *   3  LCR (kept as written)   4  MCR: kept as written; bit 1 (RTS) opens the input flow
 *   5  LSR: bit 0 data ready (input waits and RTS is set), bits 5 and 6 transmitter empty (always: bytes leave at once)
 *   6  MSR: CTS, DSR and DCD asserted
 *   7  SCR: the scratch register (it is what makes Linux call the chip a 16450)
 * </pre>
 *
 * <p><b>Interrupts.</b> Two sources, as on the chip: received data
 * available (IIR 0x04) while input waits and IER bit 0 is set; transmitter
 * holding register empty (IIR 0x02) once the register empties (at once
 * after each THR write) or IER bit 1 is newly set, cleared by an IIR read
 * that reports it or by the next THR write. The line is edge-raised: the
 * hypervisor's interrupt is raised each time the condition turns true, and
 * the guest's handler reads IIR until it says 0x01 (nothing pending).
 *
 * <p><b>Output</b> is passed on in pieces, not byte by byte: at each newline,
 * every {@link #PIECE} bytes, and whenever the driver writes IER, which both
 * of Linux's paths do when a burst ends (the console restores IER after its
 * polled write; the tty disables the transmit interrupt when its buffer is
 * empty), so a shell prompt without a newline still shows. {@link #flush()}
 * passes on the rest (the guest's end). <b>Input</b> waits in a bounded
 * queue ({@link #INPUT_LIMIT} bytes) behind RBR; it is taken only while the
 * receive interrupt is on, so typed-ahead input waits with the console
 * device until the guest's driver listens.
 *
 * <p><b>Flow control.</b> The queue is the far end of a line with hardware
 * flow control: it shows (data ready, RBR, the receive interrupt) only while
 * the driver asserts RTS (MCR bit 1), and no input is taken while RTS is
 * off. Linux's tty drops RTS when the port closes (HUPCL) and raises it
 * once the port is open again; on the way, its shutdown and start-up read
 * RBR three times to clear the chip. Without flow control those reads ate
 * three bytes of typed-ahead input whenever the console was closed and
 * opened again with input waiting ({@code LinuxBootTest}).
 *
 * <p>Everything runs on the guest's thread.
 */
public final class Uart16450 implements PortDevice {
    /** COM1. */
    public static final int COM1_BASE = 0x3F8;
    public static final int PORTS = 8;
    /** COM1's ISA interrupt, which Linux's 8250 driver assumes. */
    public static final int COM1_IRQ = 4;
    static final int PIECE = 256;
    static final int INPUT_LIMIT = 4096;

    static final int RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
    static final int IER_RDI = 0x01, IER_THRI = 0x02;
    static final int IIR_NONE = 0x01, IIR_THRE = 0x02, IIR_RDA = 0x04;
    static final int LSR_DR = 0x01, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    static final int LCR_DLAB = 0x80;
    static final int MCR_RTS = 0x02;
    static final int MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_DCD = 0x80;

    private final int irq;
    private final IntConsumer raiseIrq;
    private final Consumer<byte[]> output;
    private final ByteArrayOutputStream piece = new ByteArrayOutputStream();
    private final byte[] input = new byte[INPUT_LIMIT];
    private int inputStart;
    private int inputCount;

    private int ier, lcr, mcr, scr, dll = 1, dlm;
    /** The "transmitter holding register empty" interrupt is pending. */
    private boolean threPending;
    /** Whether the interrupt condition held after the last change (the line's level). */
    private boolean asserted;

    private long bytesIn;

    /**
     * @param irq      the interrupt line
     * @param raiseIrq raises a line in the guest
     * @param output   receives each piece of output
     */
    public Uart16450(int irq, IntConsumer raiseIrq, Consumer<byte[]> output) {
        this.irq = irq;
        this.raiseIrq = Objects.requireNonNull(raiseIrq);
        this.output = Objects.requireNonNull(output);
    }

    @Override
    public int in(int offset, int size) {
        int v = read(offset) & 0xFF;
        // A wider access reads the following registers too (Linux never does it).
        for (int i = 1; i < size; i++) {
            v |= (offset + i < PORTS ? read(offset + i) & 0xFF : 0xFF) << (8 * i);
        }
        update();
        return v;
    }

    @Override
    public void out(int offset, int size, int value) {
        for (int i = 0; i < size && offset + i < PORTS; i++) {
            write(offset + i, (value >>> (8 * i)) & 0xFF);
        }
        update();
    }

    private int read(int register) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (register) {
            case RBR_THR -> dlab ? dll : receive();
            case IER -> dlab ? dlm : ier;
            case IIR_FCR -> interruptIdentification();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> (inputShown() ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
            case MSR -> MSR_CTS | MSR_DSR | MSR_DCD;
            case SCR -> scr;
            default -> 0xFF;
        };
    }

    private void write(int register, int value) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (register) {
            case RBR_THR -> {
                if (dlab) {
                    dll = value;
                } else {
                    transmit(value);
                }
            }
            case IER -> {
                if (dlab) {
                    dlm = value;
                } else {
                    if ((value & IER_THRI) != 0 && (ier & IER_THRI) == 0) {
                        threPending = true; // enabling it with the register empty raises it
                    }
                    ier = value & 0x0F;
                    flush(); // the end of a burst, in both of the driver's paths
                }
            }
            case LCR -> lcr = value;
            case MCR -> mcr = value & 0x1F;
            case SCR -> scr = value;
            default -> {
                // FCR: no FIFO to control; LSR and MSR: read-only
            }
        }
    }

    private int interruptIdentification() {
        if ((ier & IER_RDI) != 0 && inputShown()) {
            return IIR_RDA;
        }
        if ((ier & IER_THRI) != 0 && threPending) {
            threPending = false; // reading IIR clears the transmitter interrupt it reports
            return IIR_THRE;
        }
        return IIR_NONE;
    }

    private void transmit(int value) {
        piece.write(value);
        if (value == '\n' || piece.size() >= PIECE) {
            flush();
        }
        threPending = true; // the byte left at once: the register is empty again
    }

    /** Input waits and the driver lets it come (RTS). */
    private boolean inputShown() {
        return inputCount > 0 && (mcr & MCR_RTS) != 0;
    }

    private int receive() {
        if (!inputShown()) {
            return 0; // an empty register, or a line held by flow control: nothing is taken
        }
        int b = input[inputStart] & 0xFF;
        inputStart = (inputStart + 1) % INPUT_LIMIT;
        inputCount--;
        return b;
    }

    /** Raises the line when the interrupt condition has just turned true. */
    private void update() {
        boolean now = ((ier & IER_RDI) != 0 && inputShown()) || ((ier & IER_THRI) != 0 && threPending);
        if (now && !asserted) {
            raiseIrq.accept(irq);
        }
        asserted = now;
    }

    /** Passes on the output not yet passed on. */
    public void flush() {
        if (piece.size() > 0) {
            byte[] bytes = piece.toByteArray();
            piece.reset();
            output.accept(bytes);
        }
    }

    /**
     * Input for the guest: as much of {@code data} as the input queue has
     * room for (its position advances by as many); returns the bytes taken,
     * or -1 when the queue is full or nobody listens (the receive interrupt
     * is off: no driver has opened the port yet, or the kernel console is
     * printing; or RTS is off: the port is closed): try again later. Raises
     * the interrupt.
     */
    public int receive(ByteBuffer data) {
        if ((ier & IER_RDI) == 0 || (mcr & MCR_RTS) == 0 || inputCount == INPUT_LIMIT) {
            return data.hasRemaining() ? -1 : 0;
        }
        int n = 0;
        while (data.hasRemaining() && inputCount < INPUT_LIMIT) {
            input[(inputStart + inputCount) % INPUT_LIMIT] = data.get();
            inputCount++;
            n++;
        }
        bytesIn += n;
        update();
        return n;
    }

    public long bytesIn() {
        return bytesIn;
    }
}
