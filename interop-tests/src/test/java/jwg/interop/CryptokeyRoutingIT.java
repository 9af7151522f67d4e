package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cryptokey routing, receiving side (§2 of the whitepaper): a decrypted packet is accepted only if its inner source
 * address is one of the sending peer's allowed IPs. b is the receiver; with b = wireguard-go the test is a control.
 */
class CryptokeyRoutingIT {
    private static final String SPOOFED = "10.100.0.99";
    /** An ICMP echo request of ping's default size: 20 bytes IP, 8 ICMP, 56 data. */
    private static final int ECHO_REQUEST_BYTES = 84;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @ParameterizedTest(name = "{0} spoofs, {1} receives")
    @MethodSource("jwg.interop.Pair#pairings")
    void aPacketWhoseInnerSourceIsNotAnAllowedIpOfItsPeerIsDropped(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            long delivered = p.b.interfaceCounter("rx_packets");
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no reply to a ping from a's own address");
            long deliveredAfterPing = p.b.interfaceCounter("rx_packets");
            assertTrue(deliveredAfterPing - delivered >= 3,
                    p + ": the legitimate pings raised b's rx_packets only by " + (deliveredAfterPing - delivered)
                            + " (the counter must count what b delivers, or this test proves nothing)");

            // a's kernel routes 10.100.0.2 to a's WireGuard interface, which encrypts it for b by destination.
            p.a.ns.exec("ip", "addr", "add", SPOOFED + "/24", "dev", p.a.ifname).orFail("extra address on a");
            long rx = p.b.rxBytesFrom(p.a);
            boolean answered = p.a.ns.exec(30, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", SPOOFED, p.b.inner4)
                    .exit() == 0;
            long rxAfter = p.b.rxBytesFrom(p.a);

            assertTrue(rxAfter - rx >= 3 * ECHO_REQUEST_BYTES, p + ": b received only " + (rxAfter - rx)
                    + " bytes from a during the spoofed pings: they did not arrive, so the test proves nothing");
            // A reply could not come back anyway (b has no peer for 10.100.0.99): the counter is what shows the drop.
            assertEquals(deliveredAfterPing, p.b.interfaceCounter("rx_packets"),
                    p + ": b delivered packets from " + SPOOFED + " to its interface (rx_packets grew)");
            assertFalse(answered, p + ": a ping from the spoofed source " + SPOOFED + " was answered");
        }
    }
}
