package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A handshake started by either side, then pings over IPv4 and IPv6 inner addresses, for every pairing with jwg and
 * with the kernel's WireGuard.
 */
class PingIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("ping IPv4 and IPv6 inner addresses, a initiates")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void firstPacketFromAStartsTheHandshakeAndPingsFlowBothWays(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": IPv4 ping from a");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": IPv4 ping from b");
            assertTrue(p.a.ping(p.b.inner6, 3), p + ": IPv6 ping from a");
            assertTrue(p.b.ping(p.a.inner6, 3), p + ": IPv6 ping from b");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("IPv6 underlay (outer)")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void peersReachEachOtherOverIpv6Underlay(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b, true, null)) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": ping over IPv6 transport");
            String endpoints = p.b.wg("show", p.b.ifname, "endpoints").out();
            assertTrue(endpoints.contains("[fd99::1]:51820"), "b sees a's IPv6 endpoint: " + endpoints);
        }
    }
}
