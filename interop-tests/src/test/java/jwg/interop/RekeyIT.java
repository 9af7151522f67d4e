package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * §6.2 of the whitepaper: the initiator of a session starts a new handshake once its keypair is REKEY_AFTER_TIME
 * (120 s) old and it sends, and traffic carries on over the change of keys. Takes about 2.5 minutes, so it runs for
 * one pairing only: jwg initiates, wireguard-go responds.
 */
class RekeyIT {
    private static final int REKEY_AFTER_TIME = 120;
    private static final int PINGS = 140;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Test
    void theInitiatorRekeysAfter120SecondsWithoutInterruptingTraffic() {
        try (Pair p = Pair.of(Implementation.jwg(), Implementation.wireguardGo())) {
            assertTrue(p.a.ping(p.b.inner4, 1), p + ": no reply to the first ping");
            long first = p.a.latestHandshakeWith(p.b);
            assertTrue(first > 0, p + ": a records no handshake after the first ping");

            Shell.Result ping = p.a.ns.exec(PINGS + 60, "ping", "-c", Integer.toString(PINGS), "-i", "1", "-W", "2",
                    p.b.inner4);

            long second = p.a.latestHandshakeWith(p.b);
            assertTrue(second > first, p + ": no new handshake in " + PINGS + " s of pings (latest handshake still "
                    + first + ")");
            assertTrue(second - first >= REKEY_AFTER_TIME - 1, p + ": the new handshake came " + (second - first)
                    + " s after the first one, before REKEY_AFTER_TIME");
            assertTrue(p.b.latestHandshakeWith(p.a) >= second - 1, p + ": b's latest handshake "
                    + p.b.latestHandshakeWith(p.a) + " does not match a's " + second);
            Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(ping.out());
            assertTrue(m.find(), "no ping summary: " + ping.out());
            assertEquals(PINGS, Integer.parseInt(m.group(1)), "pings sent");
            int lost = PINGS - Integer.parseInt(m.group(2));
            assertTrue(lost <= 2, p + ": " + lost + " of " + PINGS + " pings lost across the rekey");
        }
    }
}
