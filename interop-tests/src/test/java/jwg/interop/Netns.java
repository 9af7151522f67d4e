package jwg.interop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A network namespace made by a test: a separate host whose traffic never leaves this machine. */
final class Netns implements AutoCloseable {
    final String name;

    Netns(String name) {
        this.name = name;
        close();
        Shell.run("ip", "netns", "add", name).orFail("ip netns add " + name);
        exec("ip", "link", "set", "lo", "up").orFail("lo up");
        exec("sysctl", "-qw", "net.ipv4.conf.all.promote_secondaries=1");
        exec("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0");
        exec("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0");
    }

    Shell.Result exec(String... command) {
        return Shell.run(prefix(command), 60);
    }

    Shell.Result exec(int timeoutSeconds, String... command) {
        return Shell.run(prefix(command), timeoutSeconds);
    }

    /** A bash script run inside the namespace. */
    Shell.Result sh(String script) {
        return Shell.run(prefix("bash", "-c", script), 120);
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
    }
}
