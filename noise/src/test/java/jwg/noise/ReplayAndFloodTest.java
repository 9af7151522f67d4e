package jwg.noise;

import static jwg.noise.Peers.EPOCH;
import static jwg.noise.Peers.NOW;
import static jwg.noise.Peers.SECOND;
import static jwg.noise.Peers.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The responder's handshake-level defences (§5.1, §5.4.2): an initiation is accepted only with a TAI64N timestamp
 * strictly later than the last accepted from that peer, and (kernel, wireguard-go) not within 20 ms of the previous
 * accepted one.
 */
class ReplayAndFloodTest {
    private static final long MS = 1_000_000L;

    @Test
    void replayedInitiationIsRejected() {
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(init, NOW + SECOND)));
    }

    @Test
    void replayedInitiationIsRejectedEvenAfterTheHandshakeCompleted() {
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        assertTrue(p.initiator.consumeResponse(p.response(22), 0).isOk());
        p.responder.deriveKeypair(NOW);
        p.responder.clear();
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(init, NOW + 10 * SECOND)));
    }

    @Test
    void initiationWithAnOlderTimestampAfterANewerOneIsRejected() {
        Peers p = new Peers();
        byte[] older = p.initiation(11, EPOCH);
        byte[] newer = p.initiation(12, EPOCH + SECOND);
        assertTrue(p.consumeInitiation(newer, NOW).isOk());
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(older, NOW + SECOND)));
    }

    @Test
    void initiationWithAnEqualTimestampIsRejected() {
        Peers p = new Peers();
        byte[] first = p.initiation(11, EPOCH);
        // A different message (new ephemeral, new index) with the same timestamp.
        byte[] second = p.initiation(12, EPOCH);
        assertTrue(p.consumeInitiation(first, NOW).isOk());
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(second, NOW + SECOND)));
    }

    @Test
    void timestampsWithinTheSame2To24NanosecondsCountAsEqual() {
        Peers p = new Peers();
        byte[] first = p.initiation(11, EPOCH);
        // Whitening rounds nanos down to a multiple of 2^24 (~16.8 ms): EPOCH is a whole second, so both round to it.
        byte[] second = p.initiation(12, EPOCH + (1 << 24) - 1);
        byte[] third = p.initiation(13, EPOCH + (1 << 24));
        assertTrue(p.consumeInitiation(first, NOW).isOk());
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(second, NOW + SECOND)));
        assertTrue(p.consumeInitiation(third, NOW + SECOND).isOk());
    }

    @Test
    void laterInitiationWithin20msOfThePreviousIsInitiationFloodAndAcceptedFrom20ms() {
        Peers p = new Peers();
        byte[] first = p.initiation(11, EPOCH);
        byte[] second = p.initiation(12, EPOCH + SECOND);
        assertTrue(p.consumeInitiation(first, NOW).isOk());

        assertEquals(Drop.INITIATION_FLOOD, reason(p.consumeInitiation(second, NOW)));
        assertEquals(Drop.INITIATION_FLOOD, reason(p.consumeInitiation(second, NOW + 20 * MS - 1)));
        assertTrue(p.consumeInitiation(second, NOW + 20 * MS).isOk());
    }

    @Test
    void initiationRejectedAsFloodLeavesTheResponderAsItWas() {
        Peers p = new Peers();
        byte[] first = p.initiation(11, EPOCH);
        byte[] second = p.initiation(12, EPOCH + SECOND);
        assertTrue(p.consumeInitiation(first, NOW).isOk());
        assertEquals(Drop.INITIATION_FLOOD, reason(p.consumeInitiation(second, NOW + 10 * MS)));

        // The response still answers the first initiation (sender index 11)...
        byte[] resp = p.response(22);
        assertEquals(11, Message.getInt(resp, Message.RESPONSE_RECEIVER));
        // ...and the flooded one did not move the 20 ms mark or the last timestamp: it is accepted at +20 ms.
        assertTrue(p.consumeInitiation(second, NOW + 20 * MS).isOk());
    }

    @Test
    void floodIntervalIsMeasuredFromTheLastAcceptedInitiation() {
        Peers p = new Peers();
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), NOW).isOk());
        assertTrue(p.consumeInitiation(p.initiation(12, EPOCH + SECOND), NOW + 20 * MS).isOk());
        byte[] third = p.initiation(13, EPOCH + 2 * SECOND);
        assertEquals(Drop.INITIATION_FLOOD, reason(p.consumeInitiation(third, NOW + 39 * MS)));
        assertTrue(p.consumeInitiation(third, NOW + 40 * MS).isOk());
    }

    @Test
    void floodCheckWorksWithNegativeMonotonicTimes() {
        // System.nanoTime may be negative; only differences count.
        Peers p = new Peers();
        long t = -5 * SECOND;
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), t).isOk());
        byte[] second = p.initiation(12, EPOCH + SECOND);
        assertEquals(Drop.INITIATION_FLOOD, reason(p.consumeInitiation(second, t + 10 * MS)));
        assertTrue(p.consumeInitiation(second, t + 20 * MS).isOk());
    }

    @Test
    void replayIsCheckedBeforeFlood() {
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        assertEquals(Drop.REPLAYED_TIMESTAMP, reason(p.consumeInitiation(init, NOW + MS)));
    }
}
