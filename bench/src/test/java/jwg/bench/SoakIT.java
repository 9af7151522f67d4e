package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bench/soak, short: 2.5 minutes of TCP at 50 Mbit/s and a ping every 100 ms through jwg, with wireguard-go beside it
 * at the same time as the control. Issue 12's bar for a soak, held here over the short run: no ping gap over 1 s that
 * the control does not show at the same moment, no GC pause over 10 ms, transfer counters that mirror once traffic
 * has stopped, and RSS growth after the first minute of at most 5 MiB.
 *
 * <p>Why 2.5 minutes and not 2: sessions rekey after 120 s, and the handshake that starts the run comes a few seconds
 * before it; 2 minutes would end about when the first rekey happens, and a rekey is where a stall would be. The RSS
 * check here sees only 1.5 minutes after the first: it catches a leak of a few MiB a minute, not a slow one; the
 * full-length run is {@code bench/soak} (25 minutes).
 */
class SoakIT {
    private static final long LIMIT_MINUTES = 5;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("soak", "wg", "wireguard-go", "iperf3", "python3", "ping", "nstat");
    }

    @Test
    void aLoadedTunnelCrossesARekeyWithoutStallsPausesOrGrowth() throws Exception {
        Path out = module.resolve("target/soak-short");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Map<String, Object>>> results =
                (Map<String, Map<String, Map<String, Object>>>) Harness.run(module, "soak", out, LIMIT_MINUTES, "2.5");
        String table = Files.readString(out.resolve("results.md"));
        Map<String, Object> jwg = results.get("impls").get("jwg");

        assertTrue((Double) jwg.get("rekeys") >= 1, "the run saw no rekey, so it tested less than it claims\n" + table);
        assertEquals(0.0, jwg.get("unshared_gaps"), "jwg's pings stalled over 1 s where the control's did not\n" + table);
        assertNotNull(jwg.get("gc_pauses"), "no GC log from jwg's daemons\n" + table);
        assertEquals(0.0, jwg.get("gc_over_10ms"), "jwg paused for GC over 10 ms\n" + table);
        // Exact, but for what b's kernel dropped at a full socket queue on this shared 2-core machine (none in the runs
        // so far for jwg; wireguard-go's 208 KiB queue drops thousands), which never reached the daemon.
        assertEquals(Boolean.TRUE, jwg.get("counters_mirror_but_socket_drops"),
                "what one end sent, the other did not count\n" + table);
        assertTrue(jwg.get("rss_growth_mib") instanceof Double g && g <= 5.0,
                "jwg's RSS grew over 5 MiB after the first minute\n" + table);
    }
}
