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
 * no longer needed, in every copy jwg controls. So no copy of a removed preshared key may remain (jwg's own: the
 * peer's Key and the handshake's), and of a replaced private key no more than the control leaves plus two: the scalar
 * BouncyCastle's X25519 decodes into a fresh int[] for each operation with the key (the same bytes, once clamped, on
 * a little-endian machine) is garbage nothing references, which the next allocations overwrite, but until then the
 * scan finds it.
 */
class SecretsIT {
    private static final long LIMIT_MINUTES = 3;
    /** Copies of the private key that jwg cannot erase: see the class comment. */
    private static final double LIBRARY_COPIES = 2;

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
        double bar = (Double) control.get("private_replaced") + LIBRARY_COPIES;
        assertTrue((Double) jwg.get("private_replaced") <= bar, "copies of a replaced private key\n" + table);
    }
}
