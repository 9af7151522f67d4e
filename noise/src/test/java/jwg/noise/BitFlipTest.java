package jwg.noise;

import static jwg.noise.Peers.EPOCH;
import static jwg.noise.Peers.NOW;
import static jwg.noise.Peers.SOURCE;
import static jwg.noise.Peers.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every single-bit flip of every message type is rejected by a realistic receive pipeline, and nothing throws.
 *
 * <p>Each pipeline runs against fresh receive state per message (a new responder handshake, a new initiator handshake
 * in the same chain state, a new cookie generator, a new receiving keypair), so a replay or flood check can never be
 * what rejects a flipped message; each test first shows the unflipped message IS accepted by the same pipeline.
 */
class BitFlipTest {
    private static final String ACCEPTED = "accepted";
    private static final int INITIATOR_INDEX = 0x11223344;
    private static final int RESPONDER_INDEX = 0x55667788;
    /** Fixed so that a fresh initiator handshake reaches the same chain state as the one the response answers. */
    private static final byte[] INITIATOR_EPHEMERAL = Peers.bytes(100, 32);
    private static final byte[] TIMESTAMP = Tai64n.ofEpochNanos(EPOCH);

    private final Peers p = new Peers(Secret.of(Peers.bytes(7, 32)));

    // ---- message 1 ----

    @Test
    void everyBitFlipOfAnInitiationOutsideMac2IsRejected() {
        byte[] init = initiation();
        assertAllRejected(init, 0, 8 * Message.INITIATION_MAC2, m -> receiveInitiation(m, false));
    }

    @Test
    void everyBitFlipOfAnInitiationIsRejectedUnderLoadIncludingMac2() {
        byte[] init = initiation();
        giveCookie(p.responderChecker, p.toResponder, init);
        assertMac2Set(init);
        assertAllRejected(init, 0, 8 * init.length, m -> receiveInitiation(m, true));
    }

    @Test
    void initiationFlipsReMacedByAnAttackerAreRejectedByTheHandshakeExceptInTheSenderIndex() {
        // mac1 is keyed by the responder's public key, so anyone can recompute it: the handshake itself must reject.
        byte[] init = initiation();
        Function<byte[], String> pipeline = m -> {
            new CookieGenerator(p.responderPub).addMacs(m, 0, m.length, NOW);
            return receiveInitiation(m, false);
        };
        String[] outcomes = flipEach(init, 0, 8 * Message.INITIATION_MAC1, pipeline);
        for (int bit = 0; bit < outcomes.length; bit++) {
            int at = bit / 8;
            if (at < Message.INITIATION_SENDER) {
                assertEquals("not an initiation", outcomes[bit], "bit " + bit);
            } else if (at < Message.INITIATION_EPHEMERAL) {
                // The sender index is not in the handshake hash: only mac1/mac2 protect it (as in WireGuard).
                assertEquals(ACCEPTED, outcomes[bit], "bit " + bit);
            } else {
                assertEquals(Drop.DECRYPT_FAILED.name(), outcomes[bit], "bit " + bit);
            }
        }
    }

    // ---- message 2 ----

    @Test
    void everyBitFlipOfAResponseOutsideMac2IsRejected() {
        byte[] resp = response();
        assertAllRejected(resp, 0, 8 * Message.RESPONSE_MAC2, m -> receiveResponse(m, false));
    }

    @Test
    void everyBitFlipOfAResponseIsRejectedUnderLoadIncludingMac2() {
        byte[] resp = response();
        giveCookie(p.initiatorChecker, p.toInitiator, resp);
        assertMac2Set(resp);
        assertAllRejected(resp, 0, 8 * resp.length, m -> receiveResponse(m, true));
    }

    @Test
    void responseFlipsReMacedByAnAttackerAreRejectedByTheHandshakeExceptInTheSenderIndex() {
        byte[] resp = response();
        Function<byte[], String> pipeline = m -> {
            new CookieGenerator(p.initiatorPub).addMacs(m, 0, m.length, NOW);
            return receiveResponse(m, false);
        };
        String[] outcomes = flipEach(resp, 0, 8 * Message.RESPONSE_MAC1, pipeline);
        for (int bit = 0; bit < outcomes.length; bit++) {
            int at = bit / 8;
            if (at < Message.RESPONSE_SENDER) {
                assertEquals("not a response", outcomes[bit], "bit " + bit);
            } else if (at < Message.RESPONSE_RECEIVER) {
                assertEquals(ACCEPTED, outcomes[bit], "bit " + bit);
            } else if (at < Message.RESPONSE_EPHEMERAL) {
                assertEquals("unknown receiver index", outcomes[bit], "bit " + bit);
            } else {
                assertEquals(Drop.DECRYPT_FAILED.name(), outcomes[bit], "bit " + bit);
            }
        }
    }

    // ---- message 3 ----

    @Test
    void everyBitFlipOfACookieReplyIsRejected() {
        byte[] init = initiation();
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        p.responderChecker.createReply(init, 0, init.length, SOURCE, NOW, reply, 0);
        Function<byte[], String> pipeline = m -> {
            // A fresh generator that has sent exactly init.
            CookieGenerator sender = new CookieGenerator(p.responderPub);
            sender.addMacs(init.clone(), 0, init.length, NOW);
            return receiveCookieReply(m, sender);
        };
        assertAllRejected(reply, 0, 8 * reply.length, pipeline);
    }

    // ---- message 4 ----

    @Test
    void everyBitFlipOfATransportDataMessageIsRejected() {
        Peers.Keys keys = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX);
        for (int i = 0; i < 3; i++) {
            Peers.seal(keys.initiator(), new byte[1], 0);
        }
        byte[] data = Peers.seal(keys.initiator(), Peers.bytes(2, 100), Protocol.DEFAULT_MTU);
        assertEquals(3, Message.getLong(data, Message.TRANSPORT_COUNTER));
        assertAllRejected(data, 0, 8 * data.length, this::receiveTransport);
    }

    @Test
    void everyBitFlipOfAKeepaliveIsRejected() {
        byte[] keepalive = Peers.seal(Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).initiator(), new byte[0], 0);
        assertEquals(Message.TRANSPORT_MIN_LEN, keepalive.length);
        assertAllRejected(keepalive, 0, 8 * keepalive.length, this::receiveTransport);
    }

    // ---- the receive pipelines ----

    /** The responder's path for message 1: classify, mac1, mac2 when under load, consume. */
    private String receiveInitiation(byte[] m, boolean underLoad) {
        if (Message.classify(m, 0, m.length) != Message.INITIATION) {
            return "not an initiation";
        }
        if (!p.responderChecker.checkMac1(m, 0, m.length)) {
            return "bad mac1";
        }
        if (underLoad && !p.responderChecker.checkMac2(m, 0, m.length, SOURCE, NOW)) {
            return "bad mac2";
        }
        Handshake fresh = p.newResponderHandshake();
        Result<Handshake> r = Handshake.consumeInitiation(p.responderId, m, 0,
                k -> k.equals(p.initiatorPub) ? fresh : null, NOW);
        return r.isOk() ? ACCEPTED : reason(r).name();
    }

    /** The initiator's path for message 2: classify, find the handshake by receiver index, mac1, (mac2), consume. */
    private String receiveResponse(byte[] m, boolean underLoad) {
        if (Message.classify(m, 0, m.length) != Message.RESPONSE) {
            return "not a response";
        }
        if (Message.getInt(m, Message.RESPONSE_RECEIVER) != INITIATOR_INDEX) {
            return "unknown receiver index";
        }
        if (!p.initiatorChecker.checkMac1(m, 0, m.length)) {
            return "bad mac1";
        }
        if (underLoad && !p.initiatorChecker.checkMac2(m, 0, m.length, SOURCE, NOW)) {
            return "bad mac2";
        }
        Result<Handshake> r = initiatorAwaitingResponse(new byte[Message.INITIATION_LEN]).consumeResponse(m, 0);
        return r.isOk() ? ACCEPTED : reason(r).name();
    }

    /** The initiator's path for message 3: classify, receiver index is our last sender index, consume. */
    private static String receiveCookieReply(byte[] m, CookieGenerator sender) {
        if (Message.classify(m, 0, m.length) != Message.COOKIE_REPLY) {
            return "not a cookie reply";
        }
        if (Message.getInt(m, Message.COOKIE_REPLY_RECEIVER) != INITIATOR_INDEX) {
            return "unknown receiver index";
        }
        Result<CookieGenerator> r = sender.consumeReply(m, 0, NOW);
        return r.isOk() ? ACCEPTED : reason(r).name();
    }

    /** The responder's path for message 4, with a receiving keypair that has seen nothing yet. */
    private String receiveTransport(byte[] m) {
        if (Message.classify(m, 0, m.length) != Message.TRANSPORT) {
            return "not transport";
        }
        Keypair receiver = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).responder();
        if (Message.getInt(m, Message.TRANSPORT_RECEIVER) != receiver.localIndex()) {
            return "unknown receiver index";
        }
        int n = receiver.open(m, 0, m.length);
        return n >= 0 ? ACCEPTED : Drop.ofCode(n).name();
    }

    // ---- making the messages ----

    /** A fresh initiator handshake in INITIATION_CREATED, always in the same chain state; its message into out. */
    private Handshake initiatorAwaitingResponse(byte[] out) {
        Handshake h = p.newInitiatorHandshake();
        assertTrue(h.createInitiation(out, 0, INITIATOR_INDEX, INITIATOR_EPHEMERAL, TIMESTAMP));
        return h;
    }

    private byte[] initiation() {
        byte[] init = new byte[Message.INITIATION_LEN];
        initiatorAwaitingResponse(init);
        p.toResponder.addMacs(init, 0, init.length, NOW);
        return init;
    }

    private byte[] response() {
        assertTrue(p.consumeInitiation(initiation(), NOW).isOk());
        return p.response(RESPONDER_INDEX);
    }

    /** The receiver (checker) sends the sender (generator) a cookie for msg; msg is re-stamped and now has a mac2. */
    private static void giveCookie(CookieChecker receiver, CookieGenerator sender, byte[] msg) {
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        receiver.createReply(msg, 0, msg.length, SOURCE, NOW, reply, 0);
        assertTrue(sender.consumeReply(reply, 0, NOW).isOk());
        sender.addMacs(msg, 0, msg.length, NOW);
    }

    private static void assertMac2Set(byte[] msg) {
        byte[] mac2 = Arrays.copyOfRange(msg, Message.mac2Offset(msg.length), msg.length);
        assertFalse(Arrays.equals(new byte[16], mac2));
    }

    // ---- flipping ----

    /** Asserts the pipeline accepts msg as it is, then rejects it with each bit in [fromBit, toBit) flipped. */
    private static void assertAllRejected(byte[] msg, int fromBit, int toBit, Function<byte[], String> pipeline) {
        String[] outcomes = flipEach(msg, fromBit, toBit, pipeline);
        for (int i = 0; i < outcomes.length; i++) {
            assertNotEquals(ACCEPTED, outcomes[i], "bit " + (fromBit + i) + " flipped was accepted");
        }
    }

    /** The pipeline's outcome for a fresh copy of msg with each bit in turn flipped; first checks msg is accepted. */
    private static String[] flipEach(byte[] msg, int fromBit, int toBit, Function<byte[], String> pipeline) {
        assertEquals(ACCEPTED, pipeline.apply(msg.clone()), "control: the unflipped message is accepted");
        String[] outcomes = new String[toBit - fromBit];
        for (int bit = fromBit; bit < toBit; bit++) {
            byte[] m = msg.clone();
            m[bit / 8] ^= (byte) (1 << (bit % 8));
            try {
                outcomes[bit - fromBit] = pipeline.apply(m);
            } catch (RuntimeException e) {
                fail("bit " + bit + " flipped threw", e);
            }
        }
        return outcomes;
    }
}
