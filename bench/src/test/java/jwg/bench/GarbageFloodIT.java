package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bench/garbage, short: one round, 20 s of garbage at b's port (80,000 datagrams/s of random, WireGuard-shaped and
 * mutated captured datagrams from 13 addresses × 64 ports) while a pings b through the established tunnel every
 * 20 ms, wireguard-go in the same run as the control. The bar of issue 12: jwg loses at most 1.5× the control's
 * share of the pings, or 0.5%, whichever is more (this short form also allows 5 pings more than the control, one
 * round's noise: see the test); it answers none of the garbage; and its tunnel carries on after the flood. The
 * full-length run is {@code bench/garbage} (60 s, 3 rounds), on which the bar is judged.
 */
class GarbageFloodIT {
    private static final long LIMIT_MINUTES = 4;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("garbage", "wg", "wireguard-go", "python3", "ping", "nstat");
    }

    @Test
    void aTunnelKeepsItsPingsWhileGarbageFloodsThePort() throws Exception {
        Path out = module.resolve("target/garbage-short");
        @SuppressWarnings("unchecked")
        Map<String, List<Map<String, Object>>> results = (Map<String, List<Map<String, Object>>>) Harness.run(
                module, "garbage", out, LIMIT_MINUTES, "--rounds", "1", "--seconds", "20");
        String table = Files.readString(out.resolve("results.md"));
        Map<String, Object> jwg = results.get("jwg").get(0);
        Map<String, Object> control = results.get("wireguard-go").get(0);

        assertTrue((Double) jwg.get("garbage_per_s") > 40_000, "the flood was too weak to test anything\n" + table);
        // Counted in pings, not in a percentage with a float's rounding (5 of 1,000 came out as 0.5000000000000004 %).
        // One 20 s round is 1,000 pings, where one stall of jwg's single receive loop costs 2-3 (a full socket
        // queue): the short form allows the bar or 5 pings more than the control lost, whichever is more.
        // The bar itself is judged on the full run (bench/garbage, 3 x 60 s).
        double sent = (Double) jwg.get("pings_sent");
        double lost = Math.round(sent * (Double) jwg.get("loss_pct") / 100);
        double controlLost = control.get("loss_pct") instanceof Double c
                ? Math.round((Double) control.get("pings_sent") * c / 100) : 0;
        double bar = Math.max(Math.max(Math.floor(sent * 0.005), Math.floor(1.5 * controlLost)), controlLost + 5);
        assertTrue(lost <= bar, "jwg lost " + lost + " of " + sent + " pings, bar " + bar + "\n" + table);
        assertEquals(0.0, (Double) jwg.get("replies_to_garbage"), "jwg answered garbage\n" + table);
        assertTrue((Double) jwg.get("answered_after") >= 9, "jwg's tunnel did not carry on after the flood\n" + table);
    }
}
