package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The training run is two whole devices over socket pairs and loopback UDP: every packet it sends (the first behind a
 * handshake, UDP over IPv4 and IPv6 both ways, a TCP super-packet segmented and coalesced again) must come through,
 * or the start-up cache it records (bin/jwg) would miss the paths it is there for.
 */
class TrainingTest {
    @Test
    void carriesEveryPacket() throws Exception {
        assertEquals(3 * Training.PACKETS, Training.train(3, 1, silent(), () -> false, true));
    }

    /**
     * As a daemon's start-up runs it: each of the first rounds behind a handshake of its own (peers removed and added
     * again), configured without a socket.
     */
    @Test
    void carriesEveryPacketThroughRepeatedHandshakes() throws Exception {
        assertEquals(5 * Training.PACKETS, Training.train(5, 4, silent(), () -> false, false));
    }

    /**
     * It gives way to a real device's traffic before its next round (the daemon's stop is that device's activity):
     * here the stop turns true when asked before the third round, so two rounds' packets come through, no more.
     */
    @Test
    void givesWayBeforeTheRoundAfterStopSaysSo() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        assertEquals(2 * Training.PACKETS, Training.train(5, 1, silent(), () -> asked.incrementAndGet() > 2, false));
        assertEquals(3, asked.get());
    }

    private static Log silent() {
        return new Log(Log.Level.SILENT, "test", System.err);
    }
}
