package jwg.noise;

import static jwg.noise.Peers.EPOCH;
import static jwg.noise.Peers.NOW;
import static jwg.noise.Peers.SECOND;
import static jwg.noise.Peers.SOURCE;
import static jwg.noise.Peers.reason;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * mac1, mac2 and cookie replies (§5.4.4, §5.4.7): the responder ("checker") hands out cookies bound to the sender's
 * address; the initiator ("generator") stamps mac2 with the latest cookie while it is younger than 120 s.
 */
class CookieTest {
    private static final long MS = 1_000_000L;
    private static final long REFRESH = Protocol.COOKIE_REFRESH_TIME_NANOS;

    private final Peers p = new Peers();

    @Test
    void withoutACookieMac2IsZerosAndMac1IsValid() {
        byte[] init = p.initiation(11, EPOCH);
        assertArrayEquals(new byte[16], mac2(init));
        assertFalse(Arrays.equals(new byte[16], Arrays.copyOfRange(init, Message.INITIATION_MAC1,
                Message.INITIATION_MAC2)));
        assertTrue(p.responderChecker.checkMac1(init, 0, init.length));
        assertFalse(p.responderChecker.checkMac2(init, 0, init.length, SOURCE, NOW));
    }

    @Test
    void cookieReplyIsType3AddressedToTheAnsweredMessagesSender() {
        byte[] init = p.initiation(0x12345678, EPOCH);
        byte[] reply = reply(init, NOW);
        assertEquals(Message.COOKIE_REPLY, Message.classify(reply, 0, reply.length));
        assertEquals(0x12345678, Message.getInt(reply, Message.COOKIE_REPLY_RECEIVER));
    }

    @Test
    void aCookieReplyIsAcceptedOncePerMessageSoAReplayCannotRefreshTheCookie() {
        byte[] first = p.initiation(11, EPOCH);
        byte[] answer = reply(first, NOW);
        assertTrue(p.toResponder.consumeReply(answer, 0, NOW).isOk());
        assertEquals(Drop.NO_COOKIE_REQUESTED, reason(p.toResponder.consumeReply(answer, 0, NOW + SECOND)));
    }

    @Test
    void afterACookieReplyMac2IsAcceptedFromTheSameSourceOnly() {
        byte[] first = p.initiation(11, EPOCH);
        assertTrue(p.toResponder.consumeReply(reply(first, NOW), 0, NOW).isOk());
        byte[] next = p.initiation(12, EPOCH + SECOND);
        assertFalse(Arrays.equals(new byte[16], mac2(next)));

        assertTrue(p.responderChecker.checkMac2(next, 0, next.length, SOURCE, NOW + SECOND));
        byte[][] otherSources = {
            CookieChecker.source(new byte[] {(byte) 192, 0, 2, 2}, 51820),
            CookieChecker.source(new byte[] {(byte) 192, 0, 2, 1}, 51821),
            CookieChecker.source(new byte[] {(byte) 198, 51, 100, 1}, 51820),
            CookieChecker.source(new byte[16], 51820),
        };
        for (byte[] other : otherSources) {
            assertFalse(p.responderChecker.checkMac2(next, 0, next.length, other, NOW + SECOND));
        }
    }

    @Test
    void sourceIsTheAddressBytesThenTheBigEndianPort() {
        assertArrayEquals(new byte[] {(byte) 192, 0, 2, 1, (byte) 0xca, 0x6c}, SOURCE);
        byte[] v6 = new byte[16];
        v6[0] = 0x20;
        v6[15] = 1;
        byte[] expected = Arrays.copyOf(v6, 18);
        expected[16] = 0x01;
        expected[17] = 0x02;
        assertArrayEquals(expected, CookieChecker.source(v6, 0x0102));
    }

    @Test
    void cookieOlderThan120sIsNoLongerUsedForMac2() {
        byte[] first = p.initiation(11, EPOCH);
        long received = NOW + 7 * SECOND;
        assertTrue(p.toResponder.consumeReply(reply(first, NOW), 0, received).isOk());

        byte[] young = p.initiation(12, EPOCH + SECOND);
        p.toResponder.addMacs(young, 0, young.length, received + REFRESH - MS);
        assertFalse(Arrays.equals(new byte[16], mac2(young)));

        byte[] old = p.initiation(13, EPOCH + 2 * SECOND);
        p.toResponder.addMacs(old, 0, old.length, received + REFRESH + MS);
        assertArrayEquals(new byte[16], mac2(old));
    }

    @Test
    void checkersSecretOlderThan120sRejectsTheCookiesMadeUnderIt() {
        byte[] first = p.initiation(11, EPOCH);
        assertTrue(p.toResponder.consumeReply(reply(first, NOW), 0, NOW).isOk());
        byte[] next = p.initiation(12, EPOCH + SECOND);
        assertTrue(p.responderChecker.checkMac2(next, 0, next.length, SOURCE, NOW + REFRESH - MS));

        assertFalse(p.responderChecker.checkMac2(next, 0, next.length, SOURCE, NOW + REFRESH + MS));
        // A new secret (made for the next reply) does not bring the old cookie back.
        reply(first, NOW + REFRESH + MS);
        assertFalse(p.responderChecker.checkMac2(next, 0, next.length, SOURCE, NOW + REFRESH + 2 * MS));
    }

    @Test
    void aFreshCookieFromANewSecretIsAcceptedAgain() {
        byte[] first = p.initiation(11, EPOCH);
        assertTrue(p.toResponder.consumeReply(reply(first, NOW), 0, NOW).isOk());
        long later = NOW + 3 * REFRESH;
        byte[] stale = p.initiation(12, EPOCH + SECOND);
        p.toResponder.addMacs(stale, 0, stale.length, NOW + SECOND);
        assertTrue(p.toResponder.consumeReply(reply(stale, later), 0, later).isOk());
        byte[] fresh = p.initiation(13, EPOCH + 2 * SECOND);
        p.toResponder.addMacs(fresh, 0, fresh.length, later);
        assertTrue(p.responderChecker.checkMac2(fresh, 0, fresh.length, SOURCE, later));
    }

    @Test
    void cookieReplyWhenWeNeverSentAMessageIsNoCookieRequested() {
        byte[] init = p.initiation(11, EPOCH);
        CookieGenerator neverSent = new CookieGenerator(p.responderPub);
        assertEquals(Drop.NO_COOKIE_REQUESTED, reason(neverSent.consumeReply(reply(init, NOW), 0, NOW)));
    }

    @Test
    void cookieReplyAnsweringAnEarlierMessageFails() {
        byte[] first = p.initiation(11, EPOCH);
        byte[] answer = reply(first, NOW);
        p.initiation(12, EPOCH + SECOND); // now the latest mac1 is this message's

        assertEquals(Drop.DECRYPT_FAILED, reason(p.toResponder.consumeReply(answer, 0, NOW)));
        byte[] next = p.initiation(13, EPOCH + 2 * SECOND);
        assertArrayEquals(new byte[16], mac2(next));
    }

    @Test
    void cookieReplyAnsweringAnotherSendersMessageFails() {
        Peers other = new Peers(Peers.identity(3), p.responderId, Secret.zero());
        byte[] theirs = other.initiation(11, EPOCH);
        p.initiation(11, EPOCH);

        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        p.responderChecker.createReply(theirs, 0, theirs.length, SOURCE, NOW, reply, 0);
        assertEquals(Drop.DECRYPT_FAILED, reason(p.toResponder.consumeReply(reply, 0, NOW)));
        assertTrue(other.toResponder.consumeReply(reply, 0, NOW).isOk());
    }

    @Test
    void cookieReplyFromAnotherReplierFails() {
        // Sealed under HASH(LABEL_COOKIE ‖ S_pub) of the replier: a reply from carol does not open for a message to bob.
        byte[] init = p.initiation(11, EPOCH);
        CookieChecker carol = new CookieChecker(Peers.identity(3), p.random);
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        carol.createReply(init, 0, init.length, SOURCE, NOW, reply, 0);
        assertEquals(Drop.DECRYPT_FAILED, reason(p.toResponder.consumeReply(reply, 0, NOW)));
    }

    @Test
    void cookieWorksForResponsesToo() {
        assertTrue(p.consumeInitiation(p.initiation(11, EPOCH), NOW).isOk());
        byte[] resp = p.response(22);
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        p.initiatorChecker.createReply(resp, 0, resp.length, SOURCE, NOW, reply, 0);
        assertEquals(22, Message.getInt(reply, Message.COOKIE_REPLY_RECEIVER));
        assertTrue(p.toInitiator.consumeReply(reply, 0, NOW).isOk());
        p.toInitiator.addMacs(resp, 0, resp.length, NOW);
        assertTrue(p.initiatorChecker.checkMac2(resp, 0, resp.length, SOURCE, NOW));
    }

    @Test
    void mac2CoversTheWholeMessageUpToIt() {
        byte[] first = p.initiation(11, EPOCH);
        assertTrue(p.toResponder.consumeReply(reply(first, NOW), 0, NOW).isOk());
        byte[] next = p.initiation(12, EPOCH + SECOND);
        // Another valid initiation's mac2 field does not fit this one.
        byte[] other = p.initiation(13, EPOCH + 2 * SECOND);
        System.arraycopy(mac2(other), 0, next, Message.INITIATION_MAC2, 16);
        assertFalse(p.responderChecker.checkMac2(next, 0, next.length, SOURCE, NOW));
    }

    /** The responder's cookie reply to msg from SOURCE at nowNanos. */
    private byte[] reply(byte[] msg, long nowNanos) {
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        p.responderChecker.createReply(msg, 0, msg.length, SOURCE, nowNanos, reply, 0);
        return reply;
    }

    private static byte[] mac2(byte[] msg) {
        return Arrays.copyOfRange(msg, Message.mac2Offset(msg.length), msg.length);
    }
}
