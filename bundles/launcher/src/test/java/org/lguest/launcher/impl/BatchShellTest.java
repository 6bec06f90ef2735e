package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The batch shell runs shell commands through Gogo's command processor and reports whether all succeeded. */
class BatchShellTest {
    /** A command scope the tests register: test:say and test:fail. */
    public static final class TestCommands {
        final List<String> heard = new ArrayList<>();

        public String say(String word) {
            heard.add(word);
            return "said " + word;
        }

        public void fail(String why) {
            throw new IllegalStateException(why);
        }
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final TestCommands commands = new TestCommands();
    private ThreadIOImpl threadIo;
    private BatchShell batch;

    @BeforeEach
    void processorWithTestCommands() {
        threadIo = new ThreadIOImpl();
        threadIo.start();
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIo);
        processor.addCommand("test", commands, "say");
        processor.addCommand("test", commands, "fail");
        batch = new BatchShell(processor, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stopThreadIo() {
        threadIo.stop();
    }

    private int run(String script) {
        return batch.apply(new java.io.BufferedReader(new java.io.StringReader(script)));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void allCommandsSucceedingGiveStatusZeroAndPrintResults() throws Exception {
        int status = run("test:say one\ntest:say two\n");
        assertEquals(0, status, "stderr: " + err());
        assertEquals(List.of("one", "two"), commands.heard);
        assertTrue(out().contains("said one") && out().contains("said two"), "results printed, got: " + out());
    }

    @Test
    void aFailingCommandGivesStatusOneAndIsNamedOnStderr() throws Exception {
        int status = run("test:fail broken-disk\n");
        assertEquals(1, status);
        assertTrue(err().contains("test:fail broken-disk") && err().contains("broken-disk"), "stderr: " + err());
    }

    @Test
    void commandsAfterAFailureStillRun() throws Exception {
        int status = run("test:fail first\ntest:say after\n");
        assertEquals(1, status);
        assertEquals(List.of("after"), commands.heard);
    }

    @Test
    void anUnknownCommandIsAFailure() throws Exception {
        assertEquals(1, run("no-such-command\n"));
        assertTrue(err().contains("no-such-command"), "stderr: " + err());
    }

    @Test
    void blankLinesAndCommentsAreSkipped() throws Exception {
        assertEquals(0, run("\n   \n# test:fail never\n"));
        assertFalse(err().contains("never"), "stderr: " + err());
    }

    @Test
    void exitEndsTheCommandsWithoutError() throws Exception {
        assertEquals(0, run("test:say before\nexit\ntest:say after\n"), "stderr: " + err());
        assertEquals(List.of("before"), commands.heard, "nothing runs after exit");
    }
}
