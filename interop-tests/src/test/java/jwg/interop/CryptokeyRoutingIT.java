package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cryptokey routing, receiving side (§2 of the whitepaper): a decrypted packet is accepted only if its inner source
 * address is one of the sending peer's allowed IPs. b is the receiver; with b = wireguard-go or the kernel the test is a
 * control.
 */
class CryptokeyRoutingIT {
    private static final String SPOOFED = "10.100.0.99";
    /** An ICMP echo request of ping's default size: 20 bytes IP, 8 ICMP, 56 data. */
    private static final int ECHO_REQUEST_BYTES = 84;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("allowed IPs: b drops what a sends from a source outside them")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void aPacketWhoseInnerSourceIsNotAnAllowedIpOfItsPeerIsDropped(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            long delivered = p.b.interfaceCounter("rx_packets");
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no reply to a ping from a's own address");
            long deliveredAfterPing = p.b.interfaceCounter("rx_packets");
            assertTrue(deliveredAfterPing - delivered >= 3,
                    p + ": the legitimate pings raised b's rx_packets only by " + (deliveredAfterPing - delivered)
                            + " (the counter must count what b delivers, or this test proves nothing)");

            // a's kernel routes 10.100.0.2 to a's WireGuard interface, which encrypts it for b by destination.
            p.a.host.exec("ip", "addr", "add", SPOOFED + "/24", "dev", p.a.ifname).orFail("extra address on a");
            long rx = p.b.rxBytesFrom(p.a);
            long frameErrors = p.b.interfaceCounter("rx_frame_errors");
            boolean answered = p.a.host.exec(30, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", SPOOFED, p.b.inner4)
                    .exit() == 0;
            long rxAfter = p.b.rxBytesFrom(p.a);
            long frameErrorsAfter = p.b.interfaceCounter("rx_frame_errors");

            // Proof that they arrived: wireguard-go and jwg count a dropped packet's bytes as received from the peer;
            // the kernel does not, and counts it as a frame error of the interface instead.
            assertTrue(rxAfter - rx >= 3 * ECHO_REQUEST_BYTES || frameErrorsAfter - frameErrors >= 3, p + ": b"
                    + " received only " + (rxAfter - rx) + " bytes from a during the spoofed pings, and counted "
                    + (frameErrorsAfter - frameErrors) + " frame errors: they did not arrive, so the test proves"
                    + " nothing");
            // A reply could not come back anyway (b has no peer for 10.100.0.99): the counter is what shows the drop.
            assertEquals(deliveredAfterPing, p.b.interfaceCounter("rx_packets"),
                    p + ": b delivered packets from " + SPOOFED + " to its interface (rx_packets grew)");
            assertFalse(answered, p + ": a ping from the spoofed source " + SPOOFED + " was answered");
        }
    }
}
