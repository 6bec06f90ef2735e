package org.lguest.launcher.impl.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * COM1 as Linux's 8250 driver probes and drives it: the probes it must pass
 * to be called a 16450, the transmitter interrupt its tty path lives on, input
 * behind RBR, and output passed on in pieces.
 */
class Uart16450Test {
    final List<Integer> raised = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final List<String> pieces = new ArrayList<>();
    final Uart16450 uart = new Uart16450(4, raised::add, b -> {
        pieces.add(new String(b, StandardCharsets.ISO_8859_1));
        out.writeBytes(b);
    });

    int in(int register) {
        return uart.in(register, 1);
    }

    void out(int register, int value) {
        uart.out(register, 1, value);
    }

    @Test
    void ierHoldsItsLowNibbleAsTheDriversPresenceProbeExpects() {
        out(Uart16450.IER, 0);
        assertEquals(0, in(Uart16450.IER) & 0x0F);
        out(Uart16450.IER, 0x0F);
        assertEquals(0x0F, in(Uart16450.IER) & 0x0F);
    }

    @Test
    void theScratchRegisterWorksAndThereIsNoFifoSoLinuxSaysSixteen450() {
        out(Uart16450.SCR, 0xA5);
        assertEquals(0xA5, in(Uart16450.SCR));
        out(Uart16450.SCR, 0x5A);
        assertEquals(0x5A, in(Uart16450.SCR));
        out(Uart16450.IIR_FCR, 0x01); // enable FIFO: a 16450 has none
        assertEquals(0, in(Uart16450.IIR_FCR) >> 6, "IIR bits 7:6 say no FIFO");
    }

    @Test
    void theTransmitterIsAlwaysEmptyAndTheDivisorLatchIsSeparate() {
        assertEquals(0x60, in(Uart16450.LSR) & 0x60, "THRE and TEMT");
        out(Uart16450.LCR, 0x80);
        out(Uart16450.RBR_THR, 1);
        out(Uart16450.IER, 0);
        assertEquals(1, in(Uart16450.RBR_THR), "DLL");
        out(Uart16450.LCR, 0x03);
        assertEquals(0, out.size(), "a divisor write is not output");
    }

    @Test
    void enablingTheTransmitInterruptRaisesItAndReadingIirClearsIt() {
        out(Uart16450.IER, Uart16450.IER_THRI);
        assertEquals(List.of(4), raised, "IRQ 4 raised once");
        assertEquals(Uart16450.IIR_THRE, in(Uart16450.IIR_FCR));
        assertEquals(Uart16450.IIR_NONE, in(Uart16450.IIR_FCR), "the read cleared it");
        out(Uart16450.IER, 0);
        out(Uart16450.IER, Uart16450.IER_THRI);
        assertEquals(Uart16450.IIR_THRE, in(Uart16450.IIR_FCR), "re-enabling with the register empty re-asserts it");
    }

    @Test
    void eachByteWrittenWithTheInterruptOnRaisesItAgain() {
        out(Uart16450.IER, Uart16450.IER_THRI);
        in(Uart16450.IIR_FCR);
        out(Uart16450.RBR_THR, 'a');
        assertEquals(Uart16450.IIR_THRE, in(Uart16450.IIR_FCR));
        out(Uart16450.RBR_THR, 'b');
        assertEquals(3, raised.size(), "enable, then one per byte: " + raised);
    }

    @Test
    void outputIsPassedOnAtNewlinesAndWhenTheDriverWritesIer() {
        for (char c : "line\n/ # ".toCharArray()) {
            out(Uart16450.RBR_THR, c);
        }
        assertEquals(List.of("line\n"), pieces);
        out(Uart16450.IER, 0); // the tty stops the transmitter: the prompt shows
        assertEquals(List.of("line\n", "/ # "), pieces);
    }

    /** What Linux's tty leaves in the chip once the port is open: DTR, RTS and OUT2, and the receive interrupt on. */
    void open() {
        out(Uart16450.MCR, 0x0B);
        out(Uart16450.IER, Uart16450.IER_RDI);
    }

    @Test
    void inputWaitsBehindRbrWithDataReadyAndItsInterrupt() {
        open();
        assertEquals(2, uart.receive(ByteBuffer.wrap("ls".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(List.of(4), raised);
        assertEquals(Uart16450.IIR_RDA, in(Uart16450.IIR_FCR));
        assertEquals(1, in(Uart16450.LSR) & 1, "data ready");
        assertEquals('l', in(Uart16450.RBR_THR));
        assertEquals('s', in(Uart16450.RBR_THR));
        assertEquals(0, in(Uart16450.LSR) & 1);
        assertEquals(Uart16450.IIR_NONE, in(Uart16450.IIR_FCR));
    }

    @Test
    void inputWaitsWithTheCallerUntilTheDriverTurnsTheReceiveInterruptOn() {
        ByteBuffer data = ByteBuffer.wrap(new byte[] {'x'});
        assertEquals(-1, uart.receive(data), "no driver listens yet");
        assertEquals(1, data.remaining());
        open();
        assertEquals(1, uart.receive(data));
    }

    @Test
    void aFullInputQueueRefusesMoreUntilTheGuestReads() {
        open();
        byte[] lots = new byte[Uart16450.INPUT_LIMIT + 10];
        ByteBuffer data = ByteBuffer.wrap(lots);
        assertEquals(Uart16450.INPUT_LIMIT, uart.receive(data));
        assertEquals(10, data.remaining(), "the rest stays with the caller");
        assertEquals(-1, uart.receive(data));
        in(Uart16450.RBR_THR);
        assertEquals(1, uart.receive(data));
        assertTrue(uart.bytesIn() == Uart16450.INPUT_LIMIT + 1);
    }

    @Test
    void closingAndReopeningThePortLosesNoTypedAheadInput() {
        open();
        assertEquals(5, uart.receive(ByteBuffer.wrap("echo\n".getBytes(StandardCharsets.US_ASCII))));
        // Linux's close: RTS and DTR dropped (HUPCL), interrupts off, RBR read "to reset things".
        out(Uart16450.MCR, 0x08);
        out(Uart16450.IER, 0);
        in(Uart16450.RBR_THR);
        assertEquals(0, in(Uart16450.LSR) & 1, "no data shows while RTS is off");
        assertEquals(-1, uart.receive(ByteBuffer.wrap(new byte[] {'x'})), "no input is taken while the port is closed");
        // Its open: the chip cleared twice with RTS still off, then the receive interrupt and RTS.
        in(Uart16450.LSR);
        in(Uart16450.RBR_THR);
        in(Uart16450.RBR_THR);
        raised.clear();
        out(Uart16450.IER, Uart16450.IER_RDI);
        assertEquals(List.of(), raised, "no interrupt before RTS");
        out(Uart16450.MCR, 0x0B);
        assertEquals(List.of(4), raised, "RTS lets the waiting input raise its interrupt");
        StringBuilder read = new StringBuilder();
        while ((in(Uart16450.LSR) & 1) != 0) {
            read.append((char) in(Uart16450.RBR_THR));
        }
        assertEquals("echo\n", read.toString());
    }
}
