package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Datagrams that are not WireGuard messages of a known peer are dropped in silence: no reply (nothing that could be
 * used for amplification or scanning), no crash, and the tunnel keeps working. b is the target; with b =
 * wireguard-go or the kernel the test is a control. The spray comes from a's namespace, so a is never the guest.
 */
class GarbageIT {
    /**
     * Sends, from a fresh UDP socket, random datagrams of every length 0..1500, then for each WireGuard message type
     * (initiation 148 bytes, response 92, cookie reply 64, transport 32 = an empty keepalive) 200 datagrams of exactly
     * that length with the type byte and zero reserved bytes but random content; then counts what comes back in 1 s.
     */
    private static final String SPRAY = """
            import os, socket, sys, time
            target = (sys.argv[1], int(sys.argv[2]))
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sent = 0
            for n in range(0, 1501):
                s.sendto(os.urandom(n), target); sent += 1
            for kind, size in ((1, 148), (2, 92), (3, 64), (4, 32)):
                for _ in range(200):
                    s.sendto(bytes([kind, 0, 0, 0]) + os.urandom(size - 4), target); sent += 1
                    time.sleep(0.0005)
            s.settimeout(0.1)
            replies = 0
            deadline = time.time() + 1.0
            while time.time() < deadline:
                try:
                    s.recvfrom(65536); replies += 1
                except socket.timeout:
                    pass
                except OSError:
                    replies += 1
            print("sent", sent, "replies", replies)
            """;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("python3");
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("random datagrams at b: no answer, tunnel unharmed")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelAsB"})
    void randomDatagramsAtTheListenPortGetNoReplyAndLeaveTheTunnelWorking(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply before the garbage");

            Shell.Result spray = p.a.ns.exec(60, "python3", "-c", SPRAY, p.b.underlay4, Integer.toString(p.b.port));

            assertEquals("sent 2301 replies 0", spray.out().trim(), p + ": what b sent back to the garbage");
            assertTrue(p.b.alive(), p + ": b's daemon no longer answers on its UAPI socket");
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply from b after the garbage");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply to b after the garbage");
        }
    }
}
