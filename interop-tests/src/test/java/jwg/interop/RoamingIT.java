package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Built-in roaming (§2.1 of the whitepaper): a peer's endpoint becomes the source of the latest authenticated packet
 * from it. a moves to a new underlay address; b must follow. With b = wireguard-go the test is a control.
 */
class RoamingIT {
    private static final String NEW_UNDERLAY = "10.99.0.11";

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("built-in roaming: a's underlay address changes, b follows")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void aPeerThatChangesItsAddressIsFollowedToTheNewOne(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply before the move");
            assertEquals(p.a.underlay4 + ":" + p.a.port, p.b.endpointOf(p.a), p + ": b's endpoint for a before the move");

            p.a.host.exec("ip", "addr", "add", NEW_UNDERLAY + "/24", "dev", p.a.veth).orFail("new address on a");
            p.a.host.exec("ip", "addr", "del", p.a.underlay4 + "/24", "dev", p.a.veth).orFail("old address off a");
            String addresses = p.a.host.exec("ip", "-o", "-f", "inet", "addr", "show", "dev", p.a.veth).out();
            assertTrue(addresses.contains(NEW_UNDERLAY) && !addresses.contains(p.a.underlay4 + "/"),
                    "a's underlay after the move: " + addresses);

            // wireguard-go 0.0.20220316 as a keeps sending from its removed address (sticky source, ENETUNREACH) until
            // its new-handshake timer fires after 15 s; jwg binds the wildcard address and sends from the new one.
            assertTrue(p.a.awaitPing(p.b.inner4, 40), p + ": no ping reply from b within 40 s of a's move");
            assertEquals(NEW_UNDERLAY + ":" + p.a.port, p.b.endpointOf(p.a), p + ": b's endpoint for a after the move");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply to b at a's new address");
        }
    }
}
