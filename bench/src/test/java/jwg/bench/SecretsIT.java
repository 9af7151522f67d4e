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
 * bench/secrets, one round: raw copies of a preshared key and a private key in a daemon's writable memory, while in use
 * and once replaced or removed, wireguard-go in the same run as the control. Issue 12's rule: secrets are wiped when
 * no longer needed, in every copy jwg controls. jwg keeps both kinds off the heap, where the collector cannot leave
 * stale copies behind, and reads them in place (Secret, Dh), so no copy at all may remain once a key is gone.
 */
class SecretsIT {
    private static final long LIMIT_MINUTES = 3;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("secrets", "wg", "wireguard-go", "python3", "ping");
    }

    @Test
    void keysNoLongerNeededLeaveNoCopyJwgControls() throws Exception {
        Path out = module.resolve("target/secrets-short");
        @SuppressWarnings("unchecked")
        Map<String, List<Map<String, Object>>> results = (Map<String, List<Map<String, Object>>>) Harness.run(
                module, "secrets", out, LIMIT_MINUTES, "--rounds", "1");
        String table = Files.readString(out.resolve("results.md"));
        Map<String, Object> jwg = results.get("jwg").get(0);
        Map<String, Object> control = results.get("wireguard-go").get(0);

        assertEquals(5.0, jwg.get("pings_answered"), "the tunnel did not work, so the keys were never used\n" + table);
        assertTrue((Double) jwg.get("psk_set") >= 1, "the scan cannot find a key in use: it proves nothing\n" + table);
        assertTrue((Double) jwg.get("private_set") >= 1, "the scan cannot find the private key in use\n" + table);
        assertEquals(0.0, jwg.get("psk_removed"), "a removed preshared key is still in memory\n" + table);
        assertEquals(0.0, jwg.get("peer_removed"), "a removed peer's preshared key is still in memory\n" + table);
        assertEquals(0.0, jwg.get("private_replaced"), "a replaced private key is still in memory\n" + table);
        assertTrue((Double) control.get("private_set") >= 1, "the control's scan found nothing: it proves nothing\n"
                + table);
    }
}
