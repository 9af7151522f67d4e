package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The preshared key is mixed into every handshake: both sides must hold the same one. */
class PresharedKeyIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("preshared key, a initiates")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void peersWithTheSamePresharedKeyHandshakeAndPing(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b, false, Node.genpsk())) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply with the same preshared key on both sides");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply from b with the same preshared key");
            assertTrue(p.a.latestHandshakeWith(p.b) > 0, p + ": a records no handshake");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("mismatched preshared keys: no session until made equal")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void mismatchedPresharedKeysCompleteNoHandshakeUntilWgSetMakesThemEqual(Implementation a, Implementation b) {
        String psk = Node.genpsk();
        try (Pair p = Pair.of(a, b, false, psk)) {
            p.b.wg("set", p.b.ifname, "peer", p.a.publicKey, "preshared-key", p.b.host.keyFile(Node.genpsk()))
                    .orFail("wg set preshared-key on b");

            assertFalse(p.a.ping(p.b.inner4, 3), p + ": a ping from a got through although the preshared keys differ");
            assertFalse(p.b.ping(p.a.inner4, 3), p + ": a ping from b got through although the preshared keys differ");
            assertEquals(0, p.a.latestHandshakeWith(p.b), p + ": a reports a handshake with mismatched preshared keys");
            assertEquals(0, p.b.latestHandshakeWith(p.a), p + ": b reports a handshake with mismatched preshared keys");

            p.b.wg("set", p.b.ifname, "peer", p.a.publicKey, "preshared-key", p.b.host.keyFile(psk))
                    .orFail("wg set preshared-key on b");

            assertTrue(p.a.awaitPing(p.b.inner4, 30), p + ": no ping reply within 30 s after b's preshared key was fixed");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply from b after its preshared key was fixed");
            assertTrue(p.a.latestHandshakeWith(p.b) > 0 && p.b.latestHandshakeWith(p.a) > 0,
                    p + ": handshake times a " + p.a.latestHandshakeWith(p.b) + ", b " + p.b.latestHandshakeWith(p.a));
        }
    }
}
