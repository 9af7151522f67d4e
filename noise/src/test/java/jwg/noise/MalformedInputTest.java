package jwg.noise;

import static jwg.noise.Peers.EPOCH;
import static jwg.noise.Peers.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Input that is not a well-formed message: wrong lengths, reserved bits, unknown types, garbage, wrong mac1 and
 * out-of-range buffer slices. Classification is strict, and no receive step throws.
 */
class MalformedInputTest {
    private static final int INITIATOR_INDEX = 0x0a0b0c0d;
    private static final int RESPONDER_INDEX = 0x01020304;

    private final Peers p = new Peers();

    @Test
    void handshakeMessagesClassifyOnlyAtTheirExactLength() {
        byte[] init = p.initiation(INITIATOR_INDEX, EPOCH);
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        byte[] resp = p.response(RESPONDER_INDEX);
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        p.responderChecker.createReply(init, 0, init.length, Peers.SOURCE, NOW, reply, 0);

        assertClassifiesOnlyAt(Message.INITIATION, 148, init);
        assertClassifiesOnlyAt(Message.RESPONSE, 92, resp);
        assertClassifiesOnlyAt(Message.COOKIE_REPLY, 64, reply);
    }

    @Test
    void transportClassifiesFrom32BytesOn() {
        byte[] msg = Peers.seal(Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).initiator(), new byte[300], 0);
        for (int len = 0; len <= msg.length; len++) {
            int expected = len >= 32 ? Message.TRANSPORT : Message.INVALID;
            assertEquals(expected, Message.classify(msg, 0, len), "length " + len);
            assertEquals(expected, Message.classify(Arrays.copyOf(msg, len), 0, len), "length " + len);
        }
    }

    @Test
    void nonzeroReservedBytesAreInvalid() {
        int[][] typeAndLength = {{1, 148}, {2, 92}, {3, 64}, {4, 32}, {4, 100}};
        for (int[] tl : typeAndLength) {
            byte[] msg = new byte[tl[1]];
            Message.writeHeader(msg, 0, tl[0]);
            assertEquals(tl[0], Message.classify(msg, 0, msg.length));
            for (int at = 1; at <= 3; at++) {
                for (int v = 1; v <= 255; v++) {
                    byte[] m = msg.clone();
                    m[at] = (byte) v;
                    assertEquals(Message.INVALID, Message.classify(m, 0, m.length),
                            "type " + tl[0] + " reserved byte " + at + " = " + v);
                }
            }
        }
    }

    @Test
    void typesZeroAndFiveTo255AreInvalidAtEveryLength() {
        for (int type = 0; type <= 255; type++) {
            if (type >= 1 && type <= 4) {
                continue;
            }
            for (int len = 0; len <= 200; len++) {
                byte[] m = new byte[len];
                if (len > 0) {
                    m[0] = (byte) type;
                }
                assertEquals(Message.INVALID, Message.classify(m, 0, len), "type " + type + " length " + len);
            }
        }
    }

    @Test
    void classifyLooksOnlyAtTheGivenSliceOfTheBuffer() {
        byte[] init = p.initiation(INITIATOR_INDEX, EPOCH);
        byte[] buf = new byte[init.length + 10];
        System.arraycopy(init, 0, buf, 5, init.length);
        assertEquals(Message.INITIATION, Message.classify(buf, 5, init.length));
        assertEquals(Message.INVALID, Message.classify(buf, 4, init.length));
        assertEquals(Message.INVALID, Message.classify(buf, 6, init.length));
        assertEquals(Message.INVALID, Message.classify(buf, 11, init.length));
        assertEquals(Message.INVALID, Message.classify(buf, -1, init.length));
        assertEquals(Message.INVALID, Message.classify(buf, 5, -1));
    }

    @Test
    void initiationMadeForAnotherRespondersPublicKeyFailsMac1() {
        StaticIdentity carol = Peers.identity(3);
        byte[] init = new byte[Message.INITIATION_LEN];
        assertTrue(p.initiator.createInitiation(init, 0, INITIATOR_INDEX, p.random, EPOCH));
        new CookieGenerator(carol.publicKey()).addMacs(init, 0, init.length, NOW);

        assertFalse(p.responderChecker.checkMac1(init, 0, init.length));
        assertTrue(new CookieChecker(carol, p.random).checkMac1(init, 0, init.length));
    }

    @Test
    void responseMadeForAnotherInitiatorsPublicKeyFailsMac1() {
        assertTrue(p.consumeInitiation(p.initiation(INITIATOR_INDEX, EPOCH), NOW).isOk());
        byte[] resp = new byte[Message.RESPONSE_LEN];
        assertTrue(p.responder.createResponse(resp, 0, RESPONDER_INDEX, p.random));
        StaticIdentity carol = Peers.identity(3);
        new CookieGenerator(carol.publicKey()).addMacs(resp, 0, resp.length, NOW);

        assertFalse(p.initiatorChecker.checkMac1(resp, 0, resp.length));
        assertTrue(new CookieChecker(carol, p.random).checkMac1(resp, 0, resp.length));
    }

    @Test
    void randomGarbageOfEveryLengthNeverThrowsAndIsNeverAccepted() {
        byte[] sent = p.initiation(INITIATOR_INDEX, EPOCH); // p.initiator awaits a response, p.toResponder a cookie
        Keypair receiver = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).responder();
        Random random = new Random(20240601);
        for (int len = 0; len <= 200; len++) {
            // As it comes, then with each header (type 0..5, reserved zero) so that it reaches each consume step.
            for (int type = -1; type <= 5; type++) {
                for (int trial = 0; trial < 4; trial++) {
                    byte[] m = new byte[len];
                    random.nextBytes(m);
                    if (type >= 0 && len >= 4) {
                        Message.writeHeader(m, 0, type);
                    }
                    try {
                        receiveGarbage(m, receiver);
                    } catch (RuntimeException e) {
                        fail("length " + len + " type " + type + " threw on " + HexFormat.of().formatHex(m),
                                e);
                    }
                }
            }
        }
        assertEquals(Handshake.State.INITIATION_CREATED, p.initiator.state());
        assertTrue(p.responderChecker.checkMac1(sent, 0, sent.length));
    }

    /** Everything a device does with a received datagram, plus the steps an attacker reaches by forging mac1. */
    private void receiveGarbage(byte[] m, Keypair receiver) {
        int len = m.length;
        assertTrue(receiver.open(m.clone(), 0, len) < 0, "open accepted garbage");
        switch (Message.classify(m, 0, len)) {
            case Message.INITIATION -> {
                assertFalse(p.responderChecker.checkMac1(m, 0, len));
                assertFalse(p.responderChecker.checkMac2(m, 0, len, Peers.SOURCE, NOW));
                assertFalse(p.consumeInitiation(m, NOW).isOk());
                byte[] forged = m.clone();
                new CookieGenerator(p.responderPub).addMacs(forged, 0, len, NOW);
                assertTrue(p.responderChecker.checkMac1(forged, 0, len));
                assertFalse(p.consumeInitiation(forged, NOW).isOk());
            }
            case Message.RESPONSE -> {
                assertFalse(p.initiatorChecker.checkMac1(m, 0, len));
                byte[] forged = m.clone();
                Message.putInt(forged, Message.RESPONSE_RECEIVER, INITIATOR_INDEX);
                new CookieGenerator(p.initiatorPub).addMacs(forged, 0, len, NOW);
                assertTrue(p.initiatorChecker.checkMac1(forged, 0, len));
                assertFalse(p.initiator.consumeResponse(forged, 0).isOk());
            }
            case Message.COOKIE_REPLY -> assertFalse(p.toResponder.consumeReply(m, 0, NOW).isOk());
            case Message.TRANSPORT -> {
                byte[] addressed = m.clone();
                Message.putInt(addressed, Message.TRANSPORT_RECEIVER, receiver.localIndex());
                assertTrue(receiver.open(addressed, 0, len) < 0);
            }
            default -> assertEquals(Message.INVALID, Message.classify(m, 0, len));
        }
    }

    @Test
    void openOfFewerThan32BytesIsMalformed() {
        Keypair receiver = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).responder();
        byte[] buf = new byte[100];
        Message.writeHeader(buf, 0, Message.TRANSPORT);
        for (int len = -1; len < 32; len++) {
            assertEquals(Drop.MALFORMED.code(), receiver.open(buf, 0, len), "length " + len);
            assertEquals(Drop.MALFORMED.code(), receiver.open(Arrays.copyOf(buf, Math.max(len, 0)), 0, len));
        }
    }

    @Test
    void openOfASlicePastTheBufferIsMalformed() {
        Peers.Keys keys = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX);
        byte[] msg = Peers.seal(keys.initiator(), new byte[20], 0);
        byte[] buf = Arrays.copyOf(msg, msg.length + 3);

        assertEquals(Drop.MALFORMED.code(), keys.responder().open(buf, 4, msg.length));
        assertEquals(Drop.MALFORMED.code(), keys.responder().open(msg, 0, msg.length + 1));
        assertEquals(Drop.MALFORMED.code(), keys.responder().open(msg, -1, msg.length));
        assertEquals(Drop.MALFORMED.code(), keys.responder().open(msg, msg.length, 32));
        // The same message within bounds still opens.
        assertEquals(32, keys.responder().open(buf, 0, msg.length));
    }

    @Test
    void classifyOfASliceWhoseEndOverflowsIntIsInvalid() {
        byte[] buf = new byte[64];
        Message.writeHeader(buf, 1, Message.TRANSPORT);
        assertEquals(Message.INVALID, Message.classify(buf, 1, Integer.MAX_VALUE));
        assertEquals(Message.INVALID, Message.classify(buf, 40, Integer.MAX_VALUE - 20));
    }

    @Test
    void openOfASliceWhoseEndOverflowsIntIsMalformedAndDoesNotThrow() {
        Keypair receiver = Peers.keypairs(1, INITIATOR_INDEX, RESPONDER_INDEX).responder();
        for (int off : new int[] {17, 20, 40, 1, 16}) {
            byte[] buf = new byte[64];
            Message.writeHeader(buf, off, Message.TRANSPORT);
            assertEquals(Drop.MALFORMED.code(), receiver.open(buf, off, Integer.MAX_VALUE), "offset " + off);
        }
    }

    private static void assertClassifiesOnlyAt(int type, int length, byte[] msg) {
        assertEquals(length, msg.length);
        byte[] room = Arrays.copyOf(msg, length + 64);
        for (int len = 0; len <= room.length; len++) {
            int expected = len == length ? type : Message.INVALID;
            assertEquals(expected, Message.classify(room, 0, len), "type " + type + " length " + len);
            assertEquals(expected, Message.classify(Arrays.copyOf(room, len), 0, len),
                    "type " + type + " length " + len);
        }
    }
}
