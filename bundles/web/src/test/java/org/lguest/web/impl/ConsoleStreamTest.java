package org.lguest.web.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** A live console view shows every byte once: the transcript, then the watched output without what both hold; UTF-8 split across pieces stays whole. */
class ConsoleStreamTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void outputInBothTheTranscriptAndTheWatchIsShownOnce() {
        assertEquals(6, ConsoleStream.overlap(b("boot\nready\n"), b("ready\nmore")));
        assertEquals(0, ConsoleStream.overlap(b("boot\n"), b("ready\n")));
        assertEquals(0, ConsoleStream.overlap(b(""), b("x")));
        assertEquals(0, ConsoleStream.overlap(b("abc"), b("")));
        assertEquals(3, ConsoleStream.overlap(b("abc"), b("abc")));
        // the longest overlap wins: "aa" ends the transcript and starts the watch
        assertEquals(2, ConsoleStream.overlap(b("xaa"), b("aab")));
    }

    @Test
    void aCharacterSplitBetweenTwoPiecesIsDecodedWhole() {
        GuestsServlet.Utf8Text text = new GuestsServlet.Utf8Text();
        byte[] euro = b("€"); // three bytes
        assertEquals("a", text.decode(new byte[] {'a', euro[0]}, 0, 2));
        assertEquals("", text.decode(euro, 1, 1));
        assertEquals("€b", text.decode(new byte[] {euro[2], 'b'}, 0, 2));
    }

    @Test
    void eventsCarryTheTextAsOneJsonStringLine() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GuestsServlet.send(out, "output", "line one\nline \"two\" <b>\n");
        assertEquals("event: output\ndata: \"line one\\nline \\\"two\\\" \\u003cb\\u003e\\n\"\n\n", out.toString(StandardCharsets.UTF_8));
        out.reset();
        GuestsServlet.send(out, "output", "");
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void jsonWritesMapsListsNumbersAndEscapedStrings() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("id", 3);
        m.put("name", "a\"b");
        m.put("ok", true);
        m.put("none", null);
        m.put("list", java.util.List.of(1L, "x"));
        assertEquals("{\"id\":3,\"name\":\"a\\\"b\",\"ok\":true,\"none\":null,\"list\":[1,\"x\"]}", Json.write(m));
    }
}
