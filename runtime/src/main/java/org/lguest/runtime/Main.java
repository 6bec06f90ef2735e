package org.lguest.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The host system's boot: starts Felix with the distribution's bundles and
 * then either hands the terminal to the Gogo shell or runs a batch of shell
 * commands and exits with a status that says whether they all succeeded.
 *
 * <p>Layout of the distribution ({@code lguest.home}): {@code bundle/} holds
 * the bundles started at boot, {@code shell/} the interactive shell (started
 * last, so no command runs before the platform is up), {@code deploy/} and
 * {@code conf/} are watched by FileInstall (bundles and configurations
 * dropped there are installed or applied while the platform runs), and
 * {@code etc/framework.properties} holds framework properties.
 *
 * <p>Every run uses a fresh, private bundle cache that is deleted when the
 * process ends: a new start never runs stale bundle code, and two platforms
 * can run side by side.
 */
public final class Main {
    private static final long SHELL_WAIT_MILLIS = 30_000;

    private final Path home;
    private boolean interactive;
    /** {@code bin/lguest run}: the platform serves one guest on this terminal, so it opens no web console. */
    private boolean guestOnTerminal;
    /** No web console for this run (bundles/web reads the framework property lguest.web=off). */
    private boolean webOff;
    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    private Main(Path home) {
        this.home = home;
    }

    /**
     * {@code --shell}: interactive Gogo shell. {@code --batch}: commands from
     * standard input, one per line. {@code --command TEXT}: the commands in
     * TEXT (newline-separated). The exit status is 0 when the framework and
     * every command succeeded, 1 when a command failed, 2 on a usage error,
     * 3 when the platform could not start.
     */
    public static void main(String[] args) throws Exception {
        String homeProperty = System.getProperty("lguest.home");
        if (homeProperty == null || args.length == 0) {
            System.err.println("usage: java -Dlguest.home=DIR -jar lguest-runtime.jar --shell | --batch | --command TEXT | --run [ARGS]");
            System.exit(2);
        }
        Main main = new Main(Path.of(homeProperty).toAbsolutePath().normalize());
        int status = switch (args[0]) {
            case "--shell" -> main.shell();
            // Piped commands run as their lines arrive, after the platform started (not read up front).
            case "--batch" -> main.batch(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
            case "--command" -> {
                // One command line and out: no web console, no port taken (piped sessions keep theirs).
                main.webOff = true;
                yield args.length == 2 ? main.batch(new BufferedReader(new java.io.StringReader(args[1]))) : usage();
            }
            case "--run" -> main.run(java.util.Arrays.copyOfRange(args, 1, args.length));
            default -> usage();
        };
        System.out.flush();
        System.exit(status);
    }

    private static int usage() {
        System.err.println("lguest: expected --shell, --batch, --command TEXT or --run [ARGS]");
        return 2;
    }

    private int shell() throws Exception {
        interactive = true;
        Path cache = Files.createTempDirectory("lguest-cache-");
        try {
            Framework framework = boot(cache);
            if (framework == null) {
                return 3;
            }
            // JLine finds its terminal providers (ffm, exec, ...) through the thread context class loader,
            // which outside OSGi is the one that loaded JLine; here it must be the JLine bundle's, or a
            // real terminal falls back to a dumb one (no completion, no history keys). The shell's thread
            // is made while its bundle starts, and takes this loader with it.
            List<String> failed = withJLineContextLoader(framework.getBundleContext(),
                    () -> startAll(framework.getBundleContext(), home.resolve("shell")));
            if (!failed.isEmpty()) {
                err.println("lguest: the shell could not start: " + failed);
                framework.stop();
            }
            framework.waitForStop(0);
            return failed.isEmpty() ? 0 : 3;
        } finally {
            deleteTree(cache);
        }
    }

    private int batch(BufferedReader script) throws Exception {
        Path cache = Files.createTempDirectory("lguest-cache-");
        Framework framework = null;
        try {
            framework = boot(cache);
            if (framework == null) {
                return 3;
            }
            // The shell bundle brings the built-in commands (echo, grep, cat, ...); in
            // batch runs it must neither read the terminal nor stop the framework.
            List<String> failed = startAll(framework.getBundleContext(), home.resolve("shell"));
            if (!failed.isEmpty()) {
                err.println("lguest: the shell could not start: " + failed);
                return 3;
            }
            // The Launcher's batch shell: a Function<BufferedReader, Integer> service (lguest.main=batch),
            // JDK types only, so nothing here links against or reflects into Gogo.
            BundleContext context = framework.getBundleContext();
            @SuppressWarnings("unchecked")
            Integer status = withService(context, launcherFunction("batch"), SHELL_WAIT_MILLIS,
                    service -> ((java.util.function.Function<BufferedReader, Integer>) service).apply(script));
            if (status == null) {
                err.println("lguest: the Launcher's batch shell did not appear within " + SHELL_WAIT_MILLIS / 1000
                        + " s (are bundles org.lguest.launcher and org.apache.felix.gogo.runtime active?)");
                return 3;
            }
            awaitWebConsole(context);
            return status;
        } finally {
            if (framework != null) {
                framework.stop();
                framework.waitForStop(SHELL_WAIT_MILLIS);
            }
            deleteTree(cache);
        }
    }

    /**
     * {@code bin/lguest run}: the platform without the shell, then one guest
     * with its console on this process's terminal, through the Launcher's
     * {@code Function<String[], Integer>} service ({@code lguest.main=run}).
     * Returns the guest's status: 0 powered off, 1 died or did not start
     * (the reason on stderr), 2 bad arguments, 3 the platform did not start.
     */
    @SuppressWarnings("unchecked")
    private int run(String[] args) throws Exception {
        System.clearProperty(INTERRUPTED_PROPERTY);
        guestOnTerminal = true;
        Path cache = Files.createTempDirectory("lguest-cache-");
        Framework framework = null;
        // Ctrl-C: stop the platform (the Launcher stops the guest) and delete the cache on the way out.
        java.util.concurrent.atomic.AtomicReference<Framework> running = new java.util.concurrent.atomic.AtomicReference<>();
        Thread onInterrupt = new Thread(() -> {
            Framework f = running.getAndSet(null);
            try {
                if (f != null) {
                    // The run command reports the guest's end as the user's doing, not the module's.
                    System.setProperty(INTERRUPTED_PROPERTY, "true");
                    f.stop();
                    f.waitForStop(5_000);
                }
                deleteTree(cache);
            } catch (Exception e) {
                // exiting anyway
            }
        }, "lguest-exit");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try {
            framework = boot(cache);
            if (framework == null) {
                return 3;
            }
            running.set(framework);
            @SuppressWarnings("unchecked")
            Integer status = withService(framework.getBundleContext(), launcherFunction("run"), SHELL_WAIT_MILLIS,
                    service -> ((java.util.function.Function<String[], Integer>) service).apply(args));
            if (status == null) {
                err.println("lguest: the Launcher's run service did not appear within " + SHELL_WAIT_MILLIS / 1000
                        + " s (is bundle org.lguest.launcher active?)");
                return 3;
            }
            return status;
        } finally {
            if (running.getAndSet(null) != null || framework == null) {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
                if (framework != null) {
                    framework.stop();
                    framework.waitForStop(SHELL_WAIT_MILLIS);
                }
                deleteTree(cache);
            }
        }
    }

    /** Starts the framework and every bundle in bundle/; returns null (having said why) when anything failed. */
    private Framework boot(Path cache) throws Exception {
        Map<String, String> config = new HashMap<>();
        Path propertiesFile = home.resolve("etc/framework.properties");
        if (Files.isRegularFile(propertiesFile)) {
            Properties properties = new Properties();
            try (InputStream in = Files.newInputStream(propertiesFile)) {
                properties.load(in);
            }
            properties.stringPropertyNames().forEach(name -> config.put(name, properties.getProperty(name)));
        }
        for (String name : List.of("deploy", "conf")) {
            Files.createDirectories(home.resolve(name));
        }
        config.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put("felix.fileinstall.dir", home.resolve("deploy") + "," + home.resolve("conf"));
        config.put("lguest.home", home.toString());
        config.put("gosh.home", home.toString());
        config.put("gosh.args", interactive ? "" : "--nointeractive --noshutdown");
        if (guestOnTerminal || webOff) {
            config.put("lguest.web", "off"); // one guest on a terminal, or one command: no web console, no port taken
        }
        // System properties given on the command line override the file.
        System.getProperties().stringPropertyNames().stream()
                .filter(name -> name.startsWith("lguest.") || name.startsWith("felix.") || name.startsWith("org.osgi."))
                .forEach(name -> config.put(name, System.getProperty(name)));

        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework framework = factory.newFramework(config);
        framework.init();
        List<String> failed = startAll(framework.getBundleContext(), home.resolve("bundle"));
        framework.start();
        if (!failed.isEmpty()) {
            err.println("lguest: these bundles did not start:");
            failed.forEach(line -> err.println("  " + line));
            framework.stop();
            framework.waitForStop(SHELL_WAIT_MILLIS);
            return null;
        }
        return framework;
    }

    /**
     * A short piped session may end while the web console is still starting; stopping Felix HTTP
     * in the middle of that makes it log a stack trace. So the platform stops only once the HTTP
     * runtime is up (or after a few seconds, when it is not coming: lguest.web=off, or refused).
     */
    private void awaitWebConsole(BundleContext context) throws Exception {
        if (webOff || "off".equalsIgnoreCase(String.valueOf(context.getProperty("lguest.web")).trim())) {
            return;
        }
        withService(context, "(|(" + Constants.OBJECTCLASS + "=org.osgi.service.servlet.runtime.HttpServiceRuntime)("
                + Constants.OBJECTCLASS + "=org.osgi.service.http.runtime.HttpServiceRuntime))", 3_000, service -> Boolean.TRUE);
    }

    /**
     * The Launcher's entry points for this launcher: {@code Function} services with {@code lguest.main=NAME},
     * typed with JDK interfaces only, so nothing here links against or reflects into the bundles.
     */
    private static String launcherFunction(String name) {
        return "(&(" + Constants.OBJECTCLASS + "=java.util.function.Function)(lguest.main=" + name + "))";
    }

    /** Waits up to {@code millis} for a service matching {@code filter} and uses it while it is held; null when none came. */
    private static <T> T withService(BundleContext context, String filter, long millis,
            java.util.function.Function<Object, T> use) throws Exception {
        org.osgi.util.tracker.ServiceTracker<Object, Object> tracker =
                new org.osgi.util.tracker.ServiceTracker<>(context, context.createFilter(filter), null);
        tracker.open();
        try {
            Object service = tracker.waitForService(millis);
            return service == null ? null : use.apply(service);
        } finally {
            tracker.close();
        }
    }

    interface BundleWork {
        List<String> run() throws IOException;
    }

    /** Runs {@code work} with the JLine bundle's class loader as the context class loader, once JLine is installed. */
    private static List<String> withJLineContextLoader(BundleContext context, BundleWork work) throws IOException {
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        self.setContextClassLoader(new ClassLoader(before) {
            @Override
            public java.net.URL getResource(String name) {
                ClassLoader jline = jlineLoader(context);
                java.net.URL found = jline == null ? null : jline.getResource(name);
                return found != null ? found : super.getResource(name);
            }

            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                ClassLoader jline = name.startsWith("org.jline.") ? jlineLoader(context) : null;
                return jline != null ? jline.loadClass(name) : super.loadClass(name, resolve);
            }
        });
        try {
            return work.run();
        } finally {
            self.setContextClassLoader(before);
        }
    }

    private static ClassLoader jlineLoader(BundleContext context) {
        for (Bundle b : context.getBundles()) {
            if ("org.jline".equals(b.getSymbolicName())) {
                org.osgi.framework.wiring.BundleWiring wiring = b.adapt(org.osgi.framework.wiring.BundleWiring.class);
                return wiring == null ? null : wiring.getClassLoader();
            }
        }
        return null;
    }

    /** Installs every jar in {@code folder}, then starts each; returns "name: reason" for each failure. */
    private static List<String> startAll(BundleContext context, Path folder) throws IOException {
        List<String> failed = new ArrayList<>();
        List<Bundle> installed = new ArrayList<>();
        List<Path> jars;
        try (Stream<Path> files = Files.list(folder)) {
            jars = files.filter(p -> p.toString().endsWith(".jar")).sorted(Comparator.naturalOrder()).toList();
        }
        for (Path jar : jars) {
            try {
                installed.add(context.installBundle(jar.toUri().toString()));
            } catch (BundleException e) {
                failed.add(jar.getFileName() + ": " + e.getMessage());
            }
        }
        for (Bundle bundle : installed) {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
                continue;
            }
            try {
                bundle.start();
            } catch (BundleException e) {
                failed.add(bundle.getSymbolicName() + ": " + e.getMessage());
            }
        }
        return failed;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Set when the user interrupted {@code bin/lguest run} (Ctrl-C, SIGTERM), before the platform stops. */
    static final String INTERRUPTED_PROPERTY = "lguest.run.interrupted";
}
