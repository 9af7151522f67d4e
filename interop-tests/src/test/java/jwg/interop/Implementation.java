package jwg.interop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A userspace WireGuard that follows wireguard-go's command line: {@code IMPL IFNAME} creates the TUN device and
 * /var/run/wireguard/IFNAME.sock, then returns 0 once both exist. jwg and wireguard-go are the two built in; any
 * other can be named in JWG_INTEROP_IMPL ("name=command").
 */
record Implementation(String name, List<String> command) {
    static Path logFile(String ifname) {
        Path dir = Path.of("target", "interop-logs").toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
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
     * Starts the implementation in ns for interface ifname; fails the test if it does not come up. Its log goes to
     * target/interop-logs/IFNAME.log: a daemon must not inherit a pipe that nobody reads once it has started
     * (wireguard-go dies of SIGPIPE on its next log line).
     */
    void start(Netns ns, String ifname) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns.name, "env", "LOG_LEVEL=verbose"));
        full.addAll(command);
        full.add(ifname);
        Path log = logFile(ifname);
        Shell.Result r = Shell.runLogged(full, log, 20);
        if (r.exit() != 0) {
            throw new AssertionError(name + " " + ifname + " exited " + r.exit() + ": " + Shell.tail(log));
        }
        if (!Files.exists(Path.of("/var/run/wireguard", ifname + ".sock"))) {
            throw new AssertionError(name + " returned but /var/run/wireguard/" + ifname + ".sock does not exist");
        }
    }
}
