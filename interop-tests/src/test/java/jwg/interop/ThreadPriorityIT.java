package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nice values of a jwg daemon's threads, as its design sets them: the handshake workers at 10 (so that a flood of
 * initiations cannot take the CPU from the packet path), the warm-up at 19, everything else at the daemon's own 0. A
 * thread takes its nice value from the thread that starts it, so a thread pool started by its first task ran at
 * whatever its first caller ran at: b's timers, first needed by a handshake worker answering a's initiation, ran every
 * peer's keepalives and retransmissions at nice 10 (seen 2026-12-03).
 */
class ThreadPriorityIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Test
    void aRespondersThreadsRunAtTheNiceValuesTheDesignGivesThem() {
        try (Pair p = Pair.of(Implementation.wireguardGo(), Implementation.jwg())) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply from b's side");
            long pid = p.b.daemonPid();
            // comm (which may hold blanks) and nice (field 19 of /proc/PID/task/TID/stat) of every thread; a thread
            // that ends meanwhile (a UAPI connection's) is left out.
            String listing = p.b.host.sh("for t in /proc/" + pid + "/task/*; do c=$(cat $t/comm 2>/dev/null) "
                    + "&& n=$(sed 's/.*) //' $t/stat 2>/dev/null | cut -d' ' -f17) && [ -n \"$n\" ] "
                    + "&& printf '%s|%s\\n' \"$c\" \"$n\"; done; true").orFail("threads of " + pid).out();
            Map<String, List<Integer>> nice = new TreeMap<>();
            for (String line : listing.strip().split("\n")) {
                int bar = line.lastIndexOf('|');
                nice.computeIfAbsent(line.substring(0, bar), k -> new ArrayList<>())
                        .add(Integer.parseInt(line.substring(bar + 1).trim()));
            }
            for (Map.Entry<String, List<Integer>> e : nice.entrySet()) {
                int expected = e.getKey().equals("jwg-handshake") ? 10 : e.getKey().equals("jwg-warmup") ? 19 : 0;
                for (int n : e.getValue()) {
                    assertEquals(expected, n, "nice value of " + e.getKey() + " in " + nice);
                }
            }
            for (String name : List.of("jwg-timers", "jwg-initiate", "jwg-roaming", "jwg-tun-read")) {
                assertTrue(nice.containsKey(name), "no thread " + name + ": " + nice);
            }
        }
    }
}
