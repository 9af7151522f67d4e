package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bulk TCP through the tunnel arrives whole: every byte sent is received, in order, none added (the same count and
 * SHA-256 at both ends).
 */
class TransferIT {
    private static final int MEGABYTES = 20;
    /** The kernel guest's CPU is emulated (TCG): ~1.5 MB/s through its tunnel, so 20 MB would cost ~15 s a test. */
    private static final int MEGABYTES_WITH_GUEST = 4;
    private static final int TCP_PORT = 5001;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("ncat");
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("TCP transfer a to b, every byte checked")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    void megabytesOfRandomDataCrossTheTunnelByteForByte(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b);
             Shell.Background receiver = p.b.receiveTcp(TCP_PORT)) {
            assertTrue(Shell.eventually(10, () -> p.b.listensOnTcp(TCP_PORT)),
                    "nothing listens on port " + TCP_PORT + " in " + p.b.host.name());
            boolean guest = p.a.host instanceof KernelGuest || p.b.host instanceof KernelGuest;
            int megabytes = guest ? MEGABYTES_WITH_GUEST : MEGABYTES;

            long start = System.nanoTime();
            Node.Digest sent = p.a.sendRandomTcp(p.b.inner4, TCP_PORT, megabytes, 300);
            Node.Digest received = Node.Digest.parse(receiver.await(30), p + ": the receiver");
            System.out.printf("%s: %d MB in %.1f s%n", p, megabytes, (System.nanoTime() - start) / 1e9);

            assertEquals(sent.bytes(), received.bytes(), p + ": bytes received");
            assertEquals(sent.sha256(), received.sha256(), p + ": SHA-256 of what arrived differs from what was sent");
        }
    }
}
