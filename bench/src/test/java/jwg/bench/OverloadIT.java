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
 * connection and pings. Issue 12's rule: overload degrades, never collapses. The TCP connection lives on, pings keep
 * being answered, the daemons' memory stays bounded, and the UDP that gets through is at least 0.8× what a sender
 * limited to 500 Mbit/s gets through; on a machine whose tunnel cannot carry 500 Mbit/s at all, only the pings and the
 * memory. The full-length run is {@code bench/overload} (60 s).
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

        // The rules below are calibrated for a machine whose tunnel carries the 500 Mbit/s sender. A slower one (an
        // AVX2-only EPYC with steal delivered 349 of 500) is overloaded by both runs: there jwg must still answer
        // pings and keep its memory bounded, and the rest is printed, not asserted. On that machine jwg answered
        // 20-51 % of the pings (wireguard-go 56-60 %) and its TCP beside the flood got 0.0-9.7 Mbit/s (wireguard-go
        // 0.0): a weakness of jwg's on slow machines, reported, not hidden by a looser bar.
        Map<String, Object> limited = results.get("jwg").get("limited").get(0);
        boolean calibrated = (Double) limited.get("udp_goodput_mbit") >= 0.9 * (Double) limited.get("udp_offered_mbit");
        if (!calibrated) {
            System.out.println("OverloadIT: this machine's tunnel does not carry 500 Mbit/s; TCP and goodput rules not"
                    + " applied\n" + table);
            assertTrue((Double) jwg.get("pings_answered_pct") >= 10, "pings stopped being answered\n" + table);
            assertTrue((Double) jwg.get("rss_peak_mib") <= RSS_CEILING_MIB, "memory grew past its ceiling\n" + table);
            return;
        }
        // The rule is that the connection survives. Its share of the one TUN queue the unlimited UDP also fills
        // depends on which packets the kernel's queue drops: 1.8-10.1 Mbit/s of the 10 asked in the runs so far
        // (wireguard-go 0.0-0.2). A tenth of what it asked for is alive; iperf3 reports 0 when the connection broke.
        assertTrue((Double) jwg.get("tcp_mbit") >= 1, "the TCP connection beside the flood died\n" + table);
        assertTrue((Double) jwg.get("pings_answered_pct") >= 25, "pings stopped being answered\n" + table);
        assertTrue(jwg.get("goodput_vs_limited") instanceof Double g && g >= 0.8,
                "unlimited UDP got through less than 0.8x of what 500 Mbit/s does\n" + table);
        assertTrue((Double) jwg.get("rss_peak_mib") <= RSS_CEILING_MIB, "memory grew past its ceiling\n" + table);
    }
}
