package org.lguest.launcher.impl;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.function.Function;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Shell commands without a terminal: {@code echo "lguest:list" | bin/lguest}
 * and {@code bin/lguest -c TEXT}. The runtime's launcher (outside OSGi) finds
 * this as a {@code Function<BufferedReader, Integer>} with
 * {@code lguest.main=batch} (only JDK types cross between it and the
 * bundles) and hands it standard input; each line runs through Gogo's command
 * processor as soon as it has been read, so a guest started from a pipe lives
 * on while the pipe stays open. The answer is the exit status: 0 when every
 * command succeeded, 1 when one failed (each failure named on stderr).
 */
@Component(service = Function.class, property = "lguest.main=batch")
public final class BatchShell implements Function<BufferedReader, Integer> {
    /**
     * The command scopes in the order a plain name is looked up, as etc/gosh_profile sets them
     * for the interactive shell: Felix's first ({@code start 8} is bundle 8, as in Karaf), the
     * guest commands last ({@code lguest:start}).
     */
    static final String SCOPE = "felix:*:gogo:*:lguest:*";
    /** Commands that need a terminal ({@code lguest:console --attach}) look for this and refuse with a reason. */
    static final String BATCH_FLAG = "lguest.batch";

    private final CommandProcessor processor;
    private final PrintStream out;
    private final PrintStream err;

    @Activate
    public BatchShell(@Reference CommandProcessor processor) {
        // The process's own standard output and error: Gogo replaces System.out and System.err with
        // per-thread streams that lead back into a session, so a session writing to them loops.
        this(processor, new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true),
                new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true));
    }

    BatchShell(CommandProcessor processor, PrintStream out, PrintStream err) {
        this.processor = processor;
        this.out = out;
        this.err = err;
    }

    /** Runs each non-blank, non-comment line up to {@code exit}; 0 if all succeeded, else 1. */
    @Override
    public Integer apply(BufferedReader script) {
        int failures = 0;
        try (BufferedReader lines = script; CommandSession session = processor.createSession(InputStream.nullInputStream(), out, err)) {
            session.put(BATCH_FLAG, Boolean.TRUE);
            session.put("SCOPE", SCOPE);
            String line;
            while ((line = lines.readLine()) != null) {
                String command = line.strip();
                if (command.isEmpty() || command.startsWith("#")) {
                    continue;
                }
                if (command.equals("exit")) {
                    break; // as in the shell: the end of the commands (the platform stops after them)
                }
                try {
                    Object result = session.execute(command);
                    if (result != null) {
                        out.println(session.format(result, Converter.INSPECT));
                    }
                } catch (Exception e) {
                    Throwable cause = e;
                    while (cause instanceof java.lang.reflect.InvocationTargetException && cause.getCause() != null) {
                        cause = cause.getCause(); // a command run through reflection: its own exception
                    }
                    failures++;
                    err.println("lguest: command failed: " + command);
                    err.println("  " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
                    if (Boolean.getBoolean("lguest.batch.trace")) {
                        cause.printStackTrace(err);
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the commands", e);
        }
        return failures == 0 ? 0 : 1;
    }
}
