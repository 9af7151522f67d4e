package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keepalives across a silent period (§6.5 of the whitepaper), counted in {@code wg show transfer}, where a keepalive
 * is an empty transport message of 32 bytes. The passive one: a side that received data and sent nothing back sends
 * one keepalive KEEPALIVE_TIMEOUT (10 s) later, and only one. The persistent one: a side with persistent-keepalive N
 * sends one every N seconds while nothing else is sent, and the session survives the silence. Each waits out a timer
 * with an idle tunnel, so the pairings run side by side, each in namespaces of its own; those with the kernel take
 * turns on its guest.
 */
class KeepaliveIT {
    private static final int KEEPALIVE = 32;
    private static final int KEEPALIVE_TIMEOUT = 10;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    /**
     * a pings b once: b receives the request and answers with data (no keepalive owed), a receives the reply and owes
     * one. Nothing more is sent by anybody, so b's count from a grows by exactly 32 bytes, not before 10 s.
     */
    @Tag(MatrixReport.TAG)
    @DisplayName("passive keepalive: a sends one, 10 s after data it did not answer")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    @Execution(ExecutionMode.CONCURRENT)
    void theSideThatReceivedDataLastSendsOneKeepaliveAfterKeepaliveTimeout(Implementation a, Implementation b)
            throws Exception {
        Pair.inTurn(a, b, KeepaliveIT::passive);
    }

    private static void passive(Implementation a, Implementation b) throws InterruptedException {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to a's ping");
            long replied = System.nanoTime();
            long fromA = p.b.rxBytesFrom(p.a);
            long fromB = p.a.rxBytesFrom(p.b);

            sleepUntil(replied, KEEPALIVE_TIMEOUT - 2);
            assertEquals(fromA, p.b.rxBytesFrom(p.a), p + ": a sent something to b within 8 s of the reply");
            sleepUntil(replied, KEEPALIVE_TIMEOUT + 4);
            assertEquals(fromA + KEEPALIVE, p.b.rxBytesFrom(p.a),
                    p + ": bytes b received from a 14 s after the reply, beyond the " + fromA + " before it");
            assertEquals(fromB, p.a.rxBytesFrom(p.b), p + ": b sent something although it owed nothing");
        }
    }

    /**
     * a keeps the path open with persistent-keepalive 2 through 9 s in which nothing else is sent: b counts a
     * keepalive every 2 s, and after the silence a ping needs no new handshake.
     */
    @Tag(MatrixReport.TAG)
    @DisplayName("persistent keepalive: a sends one every 2 s across a silent period")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairings"})
    @Execution(ExecutionMode.CONCURRENT)
    void persistentKeepaliveKeepsSendingThroughSilence(Implementation a, Implementation b) throws Exception {
        Pair.inTurn(a, b, KeepaliveIT::persistent);
    }

    private static void persistent(Implementation a, Implementation b) throws InterruptedException {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to a's ping");
            p.a.wg("set", p.a.ifname, "peer", p.b.publicKey, "persistent-keepalive", "2").orFail("persistent-keepalive");
            long handshake = p.a.latestHandshakeWith(p.b);
            // Setting it may send one at once (the kernel and wireguard-go do): count from a second later.
            Thread.sleep(1000);
            long fromA = p.b.rxBytesFrom(p.a);
            long start = System.nanoTime();

            sleepUntil(start, 9);
            long received = p.b.rxBytesFrom(p.a) - fromA;
            long keepalives = received / KEEPALIVE;
            assertEquals(0, received % KEEPALIVE, p + ": b received " + received + " bytes, not only keepalives");
            assertTrue(keepalives >= 4 && keepalives <= 5, p + ": " + keepalives + " keepalives in 9 s at 2 s");
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to a's ping after the silence");
            assertEquals(handshake, p.a.latestHandshakeWith(p.b), p + ": the silence cost a new handshake");
        }
    }

    private static void sleepUntil(long startNanos, int seconds) throws InterruptedException {
        long left = startNanos + seconds * 1_000_000_000L - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000);
        }
    }
}
