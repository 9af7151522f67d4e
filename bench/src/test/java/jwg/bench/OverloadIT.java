package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bench/overload, short (15 s a run): UDP pushed into the tunnel as fast as iperf3 can, beside a 10 Mbit/s TCP
 * connection and pings. Issue 12's rule: overload degrades, never collapses. The TCP connection lives on and the
 * tunnel carries a new one at once when the flood stops, pings keep being answered, the daemons' memory stays bounded,
 * and the UDP that gets through is at least 0.8× what a sender limited to 500 Mbit/s gets through; on a machine whose
 * tunnel cannot carry 500 Mbit/s at all, the pings' bar is lower and goodput is not compared. The full-length run is
 * {@code bench/overload} (60 s).
 */
class OverloadIT {
    private static final long LIMIT_MINUTES = 4;
    /** The ceiling README states: a 256 MB heap bound, of which the daemon uses little, plus bounded pools. */
    private static final double RSS_CEILING_MIB = 192;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("overload", "wg", "wireguard-go", "iperf3", "python3", "ping");
    }

    @Test
    void anUnlimitedSenderDegradesTheTunnelButNeverBreaksIt() throws Exception {
        Path out = module.resolve("target/overload-short");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, List<Map<String, Object>>>> results =
                (Map<String, Map<String, List<Map<String, Object>>>>) Harness.run(module, "overload", out,
                        LIMIT_MINUTES, "--seconds", "15");
        String table = Files.readString(out.resolve("results.md"));
        Map<String, Object> jwg = results.get("jwg").get("unlimited").get(0);

        // Survival, on any machine: the TCP connection beside the flood was never broken (iperf3 finished its test and
        // exchanged its results through the tunnel), and right after the flood a new connection gets what it asks
        // for. A daemon that collapses (issue 12's first jwg: direct memory exhausted, handshakes stopped) fails both.
        assertTrue(Boolean.TRUE.equals(jwg.get("tcp_completed")), "the TCP connection beside the flood broke\n" + table);
        assertTrue((Double) jwg.get("tcp_after_mbit") >= 8,
                "right after the flood the tunnel did not carry a new 10 Mbit/s connection\n" + table);
        assertTrue((Double) jwg.get("rss_peak_mib") <= RSS_CEILING_MIB, "memory grew past its ceiling\n" + table);

        // What the connection moves during the flood is not asserted. The excess is dropped where neither daemon
        // chooses: at a's TUN queue (the kernel drops what the daemon has not read yet) and at b's socket; both drop
        // without looking at flows, 70-80 % of everything at this load on two cores, and TCP at that loss backs off
        // for seconds at a time; neither daemon drops a packet of its own there (jwg drops: none). Nine 15 s runs on
        // a 2-core AVX2 EPYC (CI's three included): jwg's connection moved 0.0-10.1 Mbit/s of the 10 asked, 1 or more
        // in 2 of 9; wireguard-go's 0.0-10.1, 1 or more in 1 of 9, and under 1 beside the 500 Mbit/s sender in 9 of 9.
        // The figure is printed in the table beside the control's. The pings share that loss: jwg answered 16-64 % of
        // them in those runs (the 16 % on a run too slow for the calibrated rules), wireguard-go 63-81 %, although
        // the share of all packets dropped was no higher for jwg (a run of each: TUN queue 46 % against 54 %, b's
        // socket 51 % against 56 %). When the drops fall, not how many, differs; the cause is not found yet.

        // The rules below are calibrated for a machine whose tunnel carries the 500 Mbit/s sender. A slower one (an
        // AVX2-only EPYC with steal delivered 349 of 500) is overloaded by both runs: there only the rules above.
        Map<String, Object> limited = results.get("jwg").get("limited").get(0);
        boolean calibrated = (Double) limited.get("udp_goodput_mbit") >= 0.9 * (Double) limited.get("udp_offered_mbit");
        if (!calibrated) {
            System.out.println("OverloadIT: this machine's tunnel does not carry 500 Mbit/s; ping and goodput rules not"
                    + " applied\n" + table);
            assertTrue((Double) jwg.get("pings_answered_pct") >= 10, "pings stopped being answered\n" + table);
            return;
        }
        assertTrue((Double) jwg.get("pings_answered_pct") >= 25, "pings stopped being answered\n" + table);
        assertTrue(jwg.get("goodput_vs_limited") instanceof Double g && g >= 0.8,
                "unlimited UDP got through less than 0.8x of what 500 Mbit/s does\n" + table);
    }
}
