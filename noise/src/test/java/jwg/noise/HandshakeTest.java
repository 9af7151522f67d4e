package jwg.noise;

import static jwg.noise.Peers.EPOCH;
import static jwg.noise.Peers.NOW;
import static jwg.noise.Peers.SECOND;
import static jwg.noise.Peers.reason;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Round trips of the handshake (§5.4.2-§5.4.5) and the rules each step enforces on its state and inputs. */
class HandshakeTest {
    private static final int MTU = Protocol.DEFAULT_MTU;
    private static final int[] PLAIN_LENGTHS = {0, 1, 15, 16, 17, 100, 1403, 1404, 1419, 1420};

    @Test
    void fullHandshakeWithoutPskYieldsKeypairsThatTalkBothWays() {
        Peers p = new Peers();
        Peers.Keys keys = p.exchange(11, 22);
        assertTransportBothWays(keys.initiator(), keys.responder());
    }

    @Test
    void fullHandshakeWithTheSamePskOnBothSidesYieldsKeypairsThatTalkBothWays() {
        Peers p = new Peers(Secret.of(Peers.bytes(42, 32)));
        Peers.Keys keys = p.exchange(11, 22);
        assertTransportBothWays(keys.initiator(), keys.responder());
    }

    @Test
    void pskMismatchFailsAtTheInitiatorsConsumeResponse() {
        Secret a = Secret.of(Peers.bytes(1, 32));
        Secret b = Secret.of(Peers.bytes(2, 32));
        Secret[][] mismatches = {{a, Secret.zero()}, {Secret.zero(), a}, {a, b}};
        for (Secret[] m : mismatches) {
            Peers p = new Peers();
            p.initiator.setPresharedKey(m[0]);
            p.responder.setPresharedKey(m[1]);
            byte[] init = p.initiation(11, EPOCH);
            // Message 1 does not depend on the psk: the responder cannot tell, and answers.
            assertTrue(p.consumeInitiation(init, NOW).isOk());
            byte[] resp = p.response(22);

            assertEquals(Drop.DECRYPT_FAILED, reason(p.initiator.consumeResponse(resp, 0)));
            assertEquals(Handshake.State.INITIATION_CREATED, p.initiator.state());
            assertNull(p.initiator.deriveKeypair(NOW));
        }
    }

    @Test
    void transportFromInitiatorToResponderRecoversEachPlaintextPaddedPerPaddedLength() {
        Peers.Keys keys = new Peers().exchange(11, 22);
        assertTransport(keys.initiator(), keys.responder(), 1);
    }

    @Test
    void transportFromResponderToInitiatorRecoversEachPlaintextPaddedPerPaddedLength() {
        Peers.Keys keys = new Peers().exchange(11, 22);
        assertTransport(keys.responder(), keys.initiator(), 2);
    }

    @Test
    void secondHandshakeYieldsNewKeysThatDoNotOpenTheOldKeypairsMessages() {
        Peers p = new Peers();
        Peers.Keys first = p.exchange(11, 22);
        Peers.Keys second = p.exchange(33, 44);
        byte[] plain = Peers.bytes(3, 64);

        byte[] oldForward = Peers.seal(first.initiator(), plain, MTU);
        byte[] newForward = Peers.seal(second.initiator(), plain, MTU);
        byte[] oldBackward = Peers.seal(first.responder(), plain, MTU);
        byte[] newBackward = Peers.seal(second.responder(), plain, MTU);
        // Same plaintext, same counter 0: only the keys differ, and so do the ciphertexts.
        assertFalse(Arrays.equals(oldForward, 16, oldForward.length, newForward, 16, newForward.length));

        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(second.responder(), oldForward));
        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(first.responder(), newForward));
        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(second.initiator(), oldBackward));
        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(first.initiator(), newBackward));
        // Each still opens with its own keypair.
        assertArrayEquals(plain, Peers.open(first.responder(), oldForward));
        assertArrayEquals(plain, Peers.open(second.responder(), newForward));
        assertArrayEquals(plain, Peers.open(first.initiator(), oldBackward));
        assertArrayEquals(plain, Peers.open(second.initiator(), newBackward));
    }

    @Test
    void keypairsCarryTheSenderIndicesOfBothMessagesAndTheirRole() {
        Peers p = new Peers();
        int initiatorIndex = 0x01020304;
        int responderIndex = 0xa0b0c0d0;
        Peers.Keys keys = p.exchange(initiatorIndex, responderIndex);

        assertEquals(initiatorIndex, keys.initiator().localIndex());
        assertEquals(responderIndex, keys.initiator().remoteIndex());
        assertEquals(responderIndex, keys.responder().localIndex());
        assertEquals(initiatorIndex, keys.responder().remoteIndex());
        assertTrue(keys.initiator().isInitiator());
        assertFalse(keys.responder().isInitiator());
        assertEquals(NOW + SECOND, keys.initiator().createdNanos());
    }

    @Test
    void responderCanInitiateWithRolesSwapped() {
        Peers p = new Peers(Secret.of(Peers.bytes(9, 32)));
        byte[] init = new byte[Message.INITIATION_LEN];
        assertTrue(p.responder.createInitiation(init, 0, 55, p.random, EPOCH));
        p.toInitiator.addMacs(init, 0, init.length, NOW);
        assertTrue(p.initiatorChecker.checkMac1(init, 0, init.length));
        assertSame(p.initiator,
                Handshake.consumeInitiation(p.initiatorId, init, 0, p.initiatorLookup(), NOW).valueOrNull());

        byte[] resp = new byte[Message.RESPONSE_LEN];
        assertTrue(p.initiator.createResponse(resp, 0, 66, p.random));
        p.toResponder.addMacs(resp, 0, resp.length, NOW);
        assertTrue(p.responderChecker.checkMac1(resp, 0, resp.length));
        assertTrue(p.responder.consumeResponse(resp, 0).isOk());

        Keypair fromResponder = p.responder.deriveKeypair(NOW);
        Keypair fromInitiator = p.initiator.deriveKeypair(NOW);
        assertTrue(fromResponder.isInitiator());
        assertFalse(fromInitiator.isInitiator());
        assertEquals(55, fromResponder.localIndex());
        assertEquals(66, fromResponder.remoteIndex());
        assertTransportBothWays(fromResponder, fromInitiator);
    }

    @Test
    void createResponseBeforeAnyInitiationIsConsumedReturnsFalse() {
        Peers p = new Peers();
        byte[] resp = new byte[Message.RESPONSE_LEN];
        assertFalse(p.responder.createResponse(resp, 0, 22, p.random));
        assertEquals(Handshake.State.ZEROED, p.responder.state());

        // The initiator's own handshake has created, not consumed, an initiation.
        p.initiation(11, EPOCH);
        assertFalse(p.initiator.createResponse(resp, 0, 22, p.random));
        assertEquals(Handshake.State.INITIATION_CREATED, p.initiator.state());
    }

    @Test
    void createResponseWorksOncePerConsumedInitiation() {
        Peers p = new Peers();
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), NOW).isOk());
        p.response(22);
        assertEquals(Handshake.State.RESPONSE_CREATED, p.responder.state());
        assertFalse(p.responder.createResponse(new byte[Message.RESPONSE_LEN], 0, 23, p.random));
    }

    @Test
    void consumeResponseInAnyStateButInitiationCreatedIsWrongState() {
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        byte[] resp = p.response(22);

        // ZEROED: a handshake that never initiated.
        assertEquals(Drop.WRONG_STATE, reason(p.newInitiatorHandshake().consumeResponse(resp, 0)));
        // RESPONSE_CREATED: the responder itself.
        assertEquals(Drop.WRONG_STATE, reason(p.responder.consumeResponse(resp, 0)));
        // RESPONSE_CONSUMED: the same response a second time.
        assertTrue(p.initiator.consumeResponse(resp, 0).isOk());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.consumeResponse(resp, 0)));
        // ANSWERED after the keypair is derived, then ZEROED once further answers are no longer looked for.
        assertNotNull(p.initiator.deriveKeypair(NOW));
        assertEquals(Handshake.State.ANSWERED, p.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.consumeResponse(resp, 0)));
        p.initiator.closeAnswers();
        assertEquals(Handshake.State.ZEROED, p.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.consumeResponse(resp, 0)));
    }

    /** Two responder states that both consumed init (two handshake workers that both passed its checks). */
    private static byte[][] twoAnswers(Peers p, byte[] init, int firstIndex, int secondIndex) {
        byte[][] answers = new byte[2][];
        for (int i = 0; i < 2; i++) {
            Handshake responder = p.newResponderHandshake();
            assertTrue(Handshake.consumeInitiation(p.responderId, init, 0, k -> responder, NOW).isOk());
            answers[i] = new byte[Message.RESPONSE_LEN];
            assertTrue(responder.createResponse(answers[i], 0, i == 0 ? firstIndex : secondIndex, p.random));
        }
        return answers;
    }

    /**
     * A responder whose handshake workers both pass the timestamp check for two copies of one initiation answers
     * twice: after taking the first, the initiator recognises the second as an authentic further answer, once, and
     * then keeps nothing of the initiation.
     */
    @Test
    void aSecondAnswerToOneInitiationIsRecognisedOnceAndThenTheInitiationIsForgotten() {
        Peers p = new Peers(Secret.of(Peers.bytes(7, 32)));
        byte[] init = p.initiation(11, EPOCH);
        byte[][] answers = twoAnswers(p, init, 22, 33);
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.furtherAnswer(answers[1], 0)), "before any answer");

        assertTrue(p.initiator.consumeResponse(answers[0], 0).isOk());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.furtherAnswer(answers[1], 0)), "before the derivation");
        assertNotNull(p.initiator.deriveKeypair(NOW));
        assertEquals(Handshake.State.ANSWERED, p.initiator.state());
        // The answer taken, replayed (even with another sender index), is no further answer.
        byte[] replay = answers[0].clone();
        Message.putInt(replay, Message.RESPONSE_SENDER, 99);
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.furtherAnswer(replay, 0)));
        // Nor is one naming another index.
        byte[] foreign = answers[1].clone();
        Message.putInt(foreign, Message.RESPONSE_RECEIVER, 12);
        assertEquals(Drop.UNKNOWN_INDEX, reason(p.initiator.furtherAnswer(foreign, 0)));
        // A forged one (a flipped bit of the encrypted empty payload) fails, and the window stays open.
        byte[] forged = answers[1].clone();
        forged[Message.RESPONSE_EPHEMERAL + 40] ^= 1;
        assertEquals(Drop.DECRYPT_FAILED, reason(p.initiator.furtherAnswer(forged, 0)));
        assertEquals(Handshake.State.ANSWERED, p.initiator.state());

        assertSame(p.initiator, p.initiator.furtherAnswer(answers[1], 0).valueOrNull());
        assertEquals(Handshake.State.ZEROED, p.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.furtherAnswer(answers[1], 0)));
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.consumeResponse(answers[1], 0)));
    }

    @Test
    void furtherAnswersCloseAfterTheAttemptLimitOnCloseAndWhenANewExchangeBegins() {
        // MAX_FURTHER_ATTEMPTS forged answers close the window: the genuine one after them is refused.
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        byte[][] answers = twoAnswers(p, init, 22, 33);
        assertTrue(p.initiator.consumeResponse(answers[0], 0).isOk());
        assertNotNull(p.initiator.deriveKeypair(NOW));
        for (int i = 0; i < Handshake.MAX_FURTHER_ATTEMPTS; i++) {
            byte[] forged = answers[1].clone();
            forged[Message.RESPONSE_EPHEMERAL + 40 + i] ^= 1;
            assertEquals(Drop.DECRYPT_FAILED, reason(p.initiator.furtherAnswer(forged, 0)), "attempt " + i);
        }
        assertEquals(Handshake.State.ZEROED, p.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.furtherAnswer(answers[1], 0)));

        // closeAnswers erases what a further answer needs.
        Peers q = new Peers();
        byte[][] two = twoAnswers(q, q.initiation(12, EPOCH), 22, 33);
        assertTrue(q.initiator.consumeResponse(two[0], 0).isOk());
        assertNotNull(q.initiator.deriveKeypair(NOW));
        q.initiator.closeAnswers();
        assertEquals(Handshake.State.ZEROED, q.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(q.initiator.furtherAnswer(two[1], 0)));

        // A new initiation of ours, or the peer's initiation consumed, ends the answered one.
        for (boolean ours : new boolean[] {true, false}) {
            Peers r = new Peers();
            byte[][] late = twoAnswers(r, r.initiation(13, EPOCH), 22, 33);
            assertTrue(r.initiator.consumeResponse(late[0], 0).isOk());
            assertNotNull(r.initiator.deriveKeypair(NOW));
            if (ours) {
                r.initiation(14, EPOCH + SECOND);
                assertEquals(Handshake.State.INITIATION_CREATED, r.initiator.state());
            } else {
                byte[] theirs = new byte[Message.INITIATION_LEN];
                assertTrue(r.responder.createInitiation(theirs, 0, 55, r.random, EPOCH + SECOND));
                assertTrue(Handshake.consumeInitiation(r.initiatorId, theirs, 0, r.initiatorLookup(), NOW).isOk());
                assertEquals(Handshake.State.INITIATION_CONSUMED, r.initiator.state());
            }
            assertEquals(Drop.WRONG_STATE, reason(r.initiator.furtherAnswer(late[1], 0)), ours ? "ours" : "theirs");
        }
    }

    @Test
    void responseWhoseReceiverIndexIsNotOursIsUnknownIndexAndChangesNothing() {
        Peers p = new Peers();
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), NOW).isOk());
        byte[] resp = p.response(22);
        byte[] foreign = resp.clone();
        Message.putInt(foreign, Message.RESPONSE_RECEIVER, 12);

        assertEquals(Drop.UNKNOWN_INDEX, reason(p.initiator.consumeResponse(foreign, 0)));
        assertEquals(Handshake.State.INITIATION_CREATED, p.initiator.state());
        assertTrue(p.initiator.consumeResponse(resp, 0).isOk());
    }

    @Test
    void initiationFromAPeerTheLookupDoesNotKnowIsUnknownPeer() {
        Peers p = new Peers();
        StaticIdentity stranger = Peers.identity(3);
        byte[] init = new byte[Message.INITIATION_LEN];
        assertTrue(new Handshake(stranger, p.responderPub).createInitiation(init, 0, 11, p.random, EPOCH));
        List<Key> askedFor = new ArrayList<>();

        Result<Handshake> r = Handshake.consumeInitiation(p.responderId, init, 0, k -> {
            askedFor.add(k);
            return p.responderLookup().apply(k);
        }, NOW);

        assertEquals(Drop.UNKNOWN_PEER, reason(r));
        assertEquals(List.of(stranger.publicKey()), askedFor);
        assertEquals(Drop.UNKNOWN_PEER, reason(Handshake.consumeInitiation(p.responderId,
                p.initiation(12, EPOCH), 0, k -> null, NOW)));
    }

    @Test
    void initiationToAPeerWhosePublicKeyIsALowOrderPointCannotBeCreated() {
        StaticIdentity me = Peers.identity(1);
        byte[] one = new byte[32];
        one[0] = 1;
        for (Key lowOrder : new Key[] {Key.zero(), Key.of(one)}) {
            Handshake h = new Handshake(me, lowOrder);
            assertFalse(h.canHandshake());
            assertFalse(h.createInitiation(new byte[Message.INITIATION_LEN], 0, 11, new SecureRandom(),
                    EPOCH));
            assertEquals(Handshake.State.ZEROED, h.state());
        }
    }

    @Test
    void initiationClaimingALowOrderStaticKeyIsZeroDhEvenIfSuchAPeerIsConfigured() {
        Peers p = new Peers();
        Handshake zeroPeer = new Handshake(p.responderId, Key.zero());
        // Forged: the static key field decrypts to zero, so DH(S_priv_r, S_pub_i) is zero.
        SymmetricState st = new SymmetricState();
        st.initialize(Protocol.IDENTIFIER);
        st.mixHash(p.responderPub.raw(), 0, 32);
        byte[] init = new byte[Message.INITIATION_LEN];
        Message.writeHeader(init, 0, Message.INITIATION);
        assertTrue(NoiseIK.writeInitiation(st, Peers.bytes(5, 32), p.responderPub.raw(), new byte[32],
                new byte[32], Tai64n.ofEpochNanos(EPOCH), init, Message.INITIATION_EPHEMERAL));

        Result<Handshake> r = Handshake.consumeInitiation(p.responderId, init, 0,
                k -> k.isZero() ? zeroPeer : null, NOW);
        assertEquals(Drop.ZERO_DH, reason(r));
        assertEquals(Handshake.State.ZEROED, zeroPeer.state());
    }

    @Test
    void withoutALocalIdentityNoHandshakeIsPossible() {
        Peers p = new Peers();
        byte[] init = p.initiation(11, EPOCH);
        assertEquals(Drop.NO_IDENTITY, reason(Handshake.consumeInitiation(null, init, 0, p.responderLookup(), NOW)));

        p.initiator.setLocalIdentity(null);
        assertFalse(p.initiator.canHandshake());
        assertFalse(p.initiator.createInitiation(new byte[Message.INITIATION_LEN], 0, 12, p.random, EPOCH));
    }

    @Test
    void changingTheLocalIdentityAbandonsTheHandshakeInFlight() {
        Peers p = new Peers();
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), NOW).isOk());
        byte[] resp = p.response(22);

        p.initiator.setLocalIdentity(Peers.identity(1));
        assertEquals(Handshake.State.ZEROED, p.initiator.state());
        assertEquals(Drop.WRONG_STATE, reason(p.initiator.consumeResponse(resp, 0)));
    }

    @Test
    void initiationForAPeerBoundToAnotherLocalIdentityIsNoIdentity() {
        Peers p = new Peers();
        // The device's key changed between the lookup's snapshot and the peer's: the peer is bound to a new identity.
        Handshake rebound = new Handshake(Peers.identity(4), p.initiatorPub);
        Result<Handshake> r = Handshake.consumeInitiation(p.responderId, p.initiation(11, EPOCH), 0,
                k -> rebound, NOW);
        assertEquals(Drop.NO_IDENTITY, reason(r));
        assertEquals(Handshake.State.ZEROED, rebound.state());
    }

    @Test
    void deriveKeypairErasesTheHandshakeSoASecondDeriveReturnsNull() {
        Peers p = new Peers();
        assertNull(p.initiator.deriveKeypair(NOW));
        byte[] init = p.initiation(11, EPOCH);
        assertNull(p.initiator.deriveKeypair(NOW));
        assertTrue(p.consumeInitiation(init, NOW).isOk());
        assertNull(p.responder.deriveKeypair(NOW));
        assertTrue(p.initiator.consumeResponse(p.response(22), 0).isOk());

        for (Handshake h : new Handshake[] {p.initiator, p.responder}) {
            assertNotNull(h.deriveKeypair(NOW));
            // The initiator keeps what a further answer needs (not C and H of this one) until answers close.
            assertEquals(h == p.initiator ? Handshake.State.ANSWERED : Handshake.State.ZEROED, h.state());
            assertArrayEquals(new byte[32], h.hash());
            assertNull(h.deriveKeypair(NOW));
        }
    }

    private static void assertTransportBothWays(Keypair a, Keypair b) {
        assertTransport(a, b, 10);
        assertTransport(b, a, 20);
    }

    /** Every length in PLAIN_LENGTHS crosses from sender to receiver intact, zero-padded to paddedLength. */
    private static void assertTransport(Keypair sender, Keypair receiver, long seed) {
        for (int len : PLAIN_LENGTHS) {
            byte[] plain = Peers.bytes(seed + len, len);
            byte[] msg = Peers.seal(sender, plain, MTU);
            byte[] opened = Peers.open(receiver, msg);
            int padded = Keypair.paddedLength(len, MTU);
            assertEquals(padded, opened.length, "length " + len);
            assertArrayEquals(plain, Arrays.copyOf(opened, len), "length " + len);
            assertArrayEquals(new byte[padded - len], Arrays.copyOfRange(opened, len, padded), "length " + len);
        }
    }
}
