package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A detached daemon's session group: lowered to nice 19 while the start-up's warm-up runs (so that it takes no CPU
 * from what the user starts next; the daemon leads a session of its own, where the scheduler's autogroups make a
 * thread's own nice value count only within the session), and back at 0 at the first UAPI connection, before any
 * peer (and so any traffic) can exist. A daemon left at 19 would carry its traffic at the lowest priority on a busy
 * machine for the rest of its life.
 */
class AutogroupIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        assumeTrue(Files.exists(Path.of("/proc/self/autogroup")), "this kernel has no scheduler autogroups");
    }

    @Test
    void theSessionIsLoweredUntilTheFirstUapiConnection() throws Exception {
        try (Pair p = Pair.hosts(Implementation.wireguardGo(), Implementation.jwg())) {
            p.a.up();
            p.b.impl.start(p.b.ns, p.b.ifname);
            long pid = p.b.daemonPid();
            // Read at once: the warm-up takes about a second of one core.
            assertEquals(19, niceOfGroup(p.b, pid), "the session's group right after the start");
            p.b.setKeyAndPort(); // wg set: the daemon's first UAPI connection
            assertEquals(0, awaitNiceOfGroup(p.b, pid, 0), "the session's group once wg has connected");
            p.b.host.exec("ip", "addr", "add", p.b.inner4 + "/24", "dev", p.b.ifname).orFail("inner IPv4");
            p.b.host.exec("ip", "link", "set", p.b.ifname, "up").orFail("link up");
            p.a.addPeer(p.b, false, null);
            p.b.addPeer(p.a, false, null);
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no ping reply");
            assertEquals(0, niceOfGroup(p.b, pid), "the session's group once traffic flows");
        }
    }

    /**
     * The group's nice value once it is expected, or after 300 ms, whichever comes first: well before the warm-up's
     * end, which would restore it too.
     */
    private static int awaitNiceOfGroup(Node node, long pid, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000L;
        int nice;
        while ((nice = niceOfGroup(node, pid)) != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return nice;
    }

    private static int niceOfGroup(Node node, long pid) {
        String line = node.host.sh("cat /proc/" + pid + "/autogroup").orFail("autogroup of " + pid).out().strip();
        return Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
    }
}
