package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code wg show transfer} counts the bytes of every message exchanged with a peer (the UDP payload: handshake
 * messages, data, keepalives), as the kernel and wireguard-go do: what one side reports sent, the other reports
 * received. And a ping each way after a fresh start costs the handshake and four data messages, nothing more: the
 * responder confirms the session with its first data, not with an extra keepalive.
 */
class TransferCountersIT {
    private static final int INITIATION = 148;
    private static final int RESPONSE = 92;
    /** An 84-byte ICMP echo in a transport message: 16 bytes header, padded to 96, 16 bytes tag. */
    private static final int ECHO = 16 + 96 + 16;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("transfer counters: each side counts what the other sent")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void bothSidesCountEveryMessageOfAHandshakeAndAPingEachWay(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to a's ping");
            assertTrue(p.b.ping(p.a.inner4, 1), p + ": no reply to b's ping");
            String[] atA = p.a.showPeer("transfer", p.b);
            String[] atB = p.b.showPeer("transfer", p.a);
            long aReceived = Long.parseLong(atA[0]);
            long aSent = Long.parseLong(atA[1]);
            long bReceived = Long.parseLong(atB[0]);
            long bSent = Long.parseLong(atB[1]);

            assertAll(p.toString(),
                    () -> assertEquals(aSent, bReceived, "what a counts sent to b, and b received from a"),
                    () -> assertEquals(bSent, aReceived, "what b counts sent to a, and a received from b"),
                    () -> assertEquals(INITIATION + 2 * ECHO, aSent, "a sent: initiation, request, reply"),
                    () -> assertEquals(RESPONSE + 2 * ECHO, bSent, "b sent: response, reply, request"));
        }
    }
}
