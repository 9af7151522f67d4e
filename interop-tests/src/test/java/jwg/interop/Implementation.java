package jwg.interop;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A WireGuard implementation. Either a userspace one that follows wireguard-go's command line: {@code IMPL IFNAME}
 * creates the TUN device and /var/run/wireguard/IFNAME.sock, then returns 0 once both exist (jwg and wireguard-go are
 * the two built in; {@link #subject} may be any other). Or the Linux kernel's own, which has no command:
 * {@link Node#up} makes its interface with ip link, and {@link Pair} puts it in a namespace or, where this machine's
 * kernel has no WireGuard, in a QEMU guest ({@link KernelGuest}).
 */
record Implementation(String name, List<String> command) {
    /** Names the implementation under test: "NAME=COMMAND [ARGS...]", or just a command (named after its file). */
    static final String SUBJECT_VARIABLE = "JWG_INTEROP_IMPL";
    private static final Pattern NAMED = Pattern.compile("([A-Za-z0-9._-]+)=(.+)");

    static Path logFile(String ifname) {
        Path dir = Path.of("target", "interop-logs").toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return dir.resolve(ifname + ".log");
    }

    static Implementation jwg() {
        Path top = Path.of("").toAbsolutePath().getParent();
        return new Implementation("jwg", List.of(top.resolve("bin/jwg").toString()));
    }

    static Implementation wireguardGo() {
        return new Implementation("wireguard-go", List.of("wireguard-go"));
    }

    /**
     * The implementation under test, which the peer scenarios pair with wireguard-go, the kernel and itself: the one
     * that {@value #SUBJECT_VARIABLE} names (interop-tests/run sets it), jwg if it names none.
     */
    static Implementation subject() {
        String spec = System.getenv(SUBJECT_VARIABLE);
        if (spec == null || spec.isBlank()) {
            return jwg();
        }
        Matcher named = NAMED.matcher(spec.trim());
        String command = named.matches() ? named.group(2) : spec.trim();
        List<String> words = List.of(command.split("\\s+"));
        String name = named.matches() ? named.group(1) : Path.of(words.get(0)).getFileName().toString();
        return new Implementation(name, words);
    }

    static Implementation kernel() {
        return new Implementation("kernel", List.of());
    }

    boolean isKernel() {
        return command.isEmpty();
    }

    /**
     * Starts the implementation in ns for interface ifname; fails the test if it does not come up. Its log goes to
     * target/interop-logs/IFNAME.log: a daemon must not inherit a pipe that nobody reads once it has started
     * (wireguard-go dies of SIGPIPE on its next log line).
     */
    void start(Netns ns, String ifname) {
        Shell.Result r = launch(ns, ifname);
        if (r.exit() != 0) {
            throw new AssertionError(name + " " + ifname + " exited " + r.exit() + ": " + r.out());
        }
        if (!Files.exists(Path.of("/var/run/wireguard", ifname + ".sock"))) {
            throw new AssertionError(name + " returned but /var/run/wireguard/" + ifname + ".sock does not exist");
        }
    }

    /**
     * Runs {@code IMPL ifname} in ns (with LOG_LEVEL=verbose, output to the interface's log) and returns its exit
     * status with what this run added to the log so far (the command's own messages, and the daemon's first lines).
     */
    Shell.Result launch(Netns ns, String ifname) {
        if (isKernel()) {
            throw new IllegalStateException("the kernel's WireGuard is no process to launch");
        }
        List<String> full = new ArrayList<>(List.of("env", "LOG_LEVEL=verbose"));
        full.addAll(command);
        full.add(ifname);
        Path log = logFile(ifname);
        long before = log.toFile().length();
        Shell.Result r = ns.execLogged(log, 20, full.toArray(String[]::new));
        return new Shell.Result(r.exit(), r.out() + logSince(log, before));
    }

    private static String logSince(Path log, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            byte[] b = new byte[(int) Math.max(0, f.length() - offset)];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
