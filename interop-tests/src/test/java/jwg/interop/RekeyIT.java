package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * §6.2 of the whitepaper: the initiator of a session starts a new handshake once its keypair is REKEY_AFTER_TIME
 * (120 s) old and it sends, and traffic carries on over the change of keys. Each pairing takes over two minutes, so
 * they run at the same time, each in namespaces of its own; those with the kernel take turns, as its guest is one
 * host that a pair resets, and in CI only those of the implementation under test run
 * ({@link Pair#kernelPairingsOfLongScenarios}).
 */
class RekeyIT {
    private static final int REKEY_AFTER_TIME = 120;
    private static final int PINGS = 130;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("rekey after REKEY_AFTER_TIME: a initiates again at 120 s, pings carry on")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelPairingsOfLongScenarios"})
    @Execution(ExecutionMode.CONCURRENT)   // the pairings side by side; the class still runs alone
    void theInitiatorRekeysAfter120SecondsWithoutInterruptingTraffic(Implementation a, Implementation b)
            throws Exception {
        Pair.inTurn(a, b, this::rekey);
    }

    private void rekey(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to the first ping");
            long first = p.a.latestHandshakeWith(p.b);
            assertTrue(first > 0, p + ": a records no handshake after the first ping");
            long firstAtB = p.b.latestHandshakeWith(p.a);

            Shell.Result ping = p.a.host.exec(PINGS + 60, "ping", "-c", Integer.toString(PINGS), "-i", "1", "-W", "2",
                    p.b.inner4);

            long second = p.a.latestHandshakeWith(p.b);
            assertTrue(second > first, p + ": no new handshake in " + PINGS + " s of pings (latest handshake still "
                    + first + ")");
            assertTrue(second - first >= REKEY_AFTER_TIME - 1, p + ": the new handshake came " + (second - first)
                    + " s after the first one, before REKEY_AFTER_TIME");
            // Each side by its own clock: the kernel guest's may not be this machine's to the second.
            long secondAtB = p.b.latestHandshakeWith(p.a);
            assertTrue(secondAtB - firstAtB >= REKEY_AFTER_TIME - 1, p + ": b's latest handshake went from "
                    + firstAtB + " to " + secondAtB + " while a's went from " + first + " to " + second);
            Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) (?:packets )?received").matcher(ping.out());
            assertTrue(m.find(), "no ping summary: " + ping.out());
            assertEquals(PINGS, Integer.parseInt(m.group(1)), "pings sent");
            int lost = PINGS - Integer.parseInt(m.group(2));
            assertTrue(lost <= 2, p + ": " + lost + " of " + PINGS + " pings lost across the rekey");
        }
    }
}
