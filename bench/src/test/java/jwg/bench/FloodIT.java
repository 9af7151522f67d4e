package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bench/flood, short: one round, 20 s of initiations that pass mac1 from 13 addresses × 64 ports, a fresh peer's
 * first ping 5 s in, wireguard-go in the same run as the control. The bar of issue 12: jwg's first reply no later than
 * 1.25× the control's (or 8 s, whichever is later: one round of a noisy figure), and at most 3% of the pings after it
 * lost (or the control's loss, where the control loses more). The full-length run is {@code bench/flood} (60 s, 3
 * rounds).
 */
class FloodIT {
    private static final long LIMIT_MINUTES = 4;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("flood", "wg", "wireguard-go", "python3", "ping");
    }

    @Test
    void aLegitimatePeerHandshakesThroughAnInitiationFloodAndKeepsItsPings() throws Exception {
        Path out = module.resolve("target/flood-short");
        @SuppressWarnings("unchecked")
        Map<String, List<Map<String, Object>>> results = (Map<String, List<Map<String, Object>>>) Harness.run(
                module, "flood", out, LIMIT_MINUTES, "--rounds", "1", "--seconds", "20", "--at", "5");
        String table = Files.readString(out.resolve("results.md"));
        Map<String, Object> jwg = results.get("jwg").get(0);
        Map<String, Object> control = results.get("wireguard-go").get(0);

        assertNotNull(jwg.get("first_reply_s"), "jwg's peer got no reply at all during the flood\n" + table);
        double first = (Double) jwg.get("first_reply_s");
        double bar = control.get("first_reply_s") instanceof Double c ? Math.max(8.0, 1.25 * c) : 8.0;
        assertTrue(first <= bar, "jwg's first reply after " + first + " s, bar " + bar + " s\n" + table);
        double loss = (Double) jwg.get("loss_after");
        // 3 %, or the control's own loss where it loses more (none where it got no reply: its loss is then unknown,
        // and jwg is held to the absolute bar). On a slow machine (an AVX2-only EPYC with steal) short rounds saw jwg
        // lose 3.2-26.7 % while its handshake workers took the CPU from its UDP loop; at nice 10, 0.0 % in 2 rounds
        // (bench/results/2026-12-01-0527-flood). The absolute bar is bench/flood's, over 3 full rounds.
        double lossBar = control.get("loss_after") instanceof Double c ? Math.max(3.0, c) : 3.0;
        assertTrue(loss <= lossBar, "jwg lost " + loss + "% of the pings after its first reply, bar " + lossBar
                + "%\n" + table);
        assertTrue((Double) jwg.get("storm_per_s") > 10_000, "the flood was too weak to test anything\n" + table);
    }
}
