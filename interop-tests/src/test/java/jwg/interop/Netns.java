package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** A network namespace made by a test: a separate host whose traffic never leaves this machine. */
final class Netns implements Host, AutoCloseable {
    final String name;

    /** A new namespace (an earlier one of that name is closed first). */
    Netns(String name) {
        this(name, true);
        exec("ip", "link", "set", "lo", "up").orFail("lo up");
        exec("sysctl", "-qw", "net.ipv4.conf.all.promote_secondaries=1");
        exec("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0");
        exec("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0");
    }

    private Netns(String name, boolean create) {
        this.name = name;
        if (create) {
            close();
            Shell.run("ip", "netns", "add", name).orFail("ip netns add " + name);
        }
    }

    /** A namespace that a script made and set up; closing it ends its processes and deletes it all the same. */
    static Netns adopt(String name) {
        return new Netns(name, false);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Shell.Result exec(int timeoutSeconds, String... command) {
        return Shell.run(prefix(command), timeoutSeconds);
    }

    /** A bash script run inside the namespace. */
    @Override
    public Shell.Result sh(String script, int timeoutSeconds) {
        return Shell.run(prefix("bash", "-c", script), timeoutSeconds);
    }

    @Override
    public Shell.Background spawnSh(String script) {
        return spawn("bash", "-c", script);
    }

    @Override
    public String keyFile(String key) {
        return Node.keyFile(key);
    }

    @Override
    public String tcpReceiveCommand(int port) {
        // --no-shutdown: --recv-only alone half-closes at once, and busybox nc (the guest's sender) stops at that.
        return "ncat -l --recv-only --no-shutdown " + port;
    }

    @Override
    public String tcpSendCommand(String address, int port) {
        return "ncat --send-only " + address + " " + port;
    }

    /** A command started in the namespace and left running; see {@link Shell.Background}. */
    Shell.Background spawn(String... command) {
        return Shell.start(prefix(command));
    }

    /** Runs command in the namespace with its output appended to log (for commands that start daemons). */
    Shell.Result execLogged(Path log, int timeoutSeconds, String... command) {
        return Shell.runLogged(prefix(command), log, timeoutSeconds);
    }

    /** The processes running in the namespace (ip netns pids). */
    List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        for (String line : Shell.run("ip", "netns", "pids", name).out().split("\n")) {
            if (line.trim().matches("\\d+")) {
                pids.add(Long.parseLong(line.trim()));
            }
        }
        return pids;
    }

    private List<String> prefix(String... command) {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", name));
        all.addAll(List.of(command));
        return all;
    }

    /** Ends every process still running in the namespace (deleting it does not stop a daemon), then deletes it. */
    @Override
    public void close() {
        Shell.sh("for p in $(ip netns pids " + name + " 2>/dev/null); do kill $p; done; sleep 0.2;"
                + " for p in $(ip netns pids " + name + " 2>/dev/null); do kill -9 $p; done; true");
        Shell.run("ip", "netns", "del", name);
        Shell.run("rm", "-rf", etc().toString());
    }

    /**
     * Writes /etc/netns/NAME/RELATIVE, which {@code ip netns exec} mounts over /etc/RELATIVE for every process started
     * in the namespace from then on (resolv.conf, hosts, wireguard/IFNAME.conf: the top entry must exist under /etc).
     * Files under wireguard/ get mode 600, as wg-quick wants. Closing the namespace removes them.
     */
    Path etcFile(String relative, String content) {
        try {
            Path file = etc().resolve(relative);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(
                    relative.startsWith("wireguard/") ? "rw-------" : "rw-r--r--"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path etc() {
        return Path.of("/etc/netns", name);
    }
}
