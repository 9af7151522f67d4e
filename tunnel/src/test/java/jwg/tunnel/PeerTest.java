package jwg.tunnel;

import static jwg.tunnel.TwoPeers.Kind.DATA;
import static jwg.tunnel.TwoPeers.Kind.INITIATION;
import static jwg.tunnel.TwoPeers.Kind.KEEPALIVE;
import static jwg.tunnel.TwoPeers.Kind.RESPONSE;
import static jwg.tunnel.TwoPeers.millis;
import static jwg.tunnel.TwoPeers.seconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import jwg.noise.Drop;
import jwg.noise.Keypair;
import jwg.tunnel.TwoPeers.Datagram;
import org.junit.jupiter.api.Test;

/**
 * The protocol rules a {@link Peer} implements (§5.4.5, §6), each shown as a scenario between two peers on a simulated
 * wire with a fake clock ({@link TwoPeers}): no sockets, no threads, no waiting. Unless a test says otherwise a
 * message arrives the instant it is sent, so a handshake completes within the input that started it. Times in the
 * assertions are since the start of the test.
 */
class PeerTest {
    // The whitepaper's numbers (§6.1), written out rather than taken from Protocol: a wrong constant must fail here.
    private static final Duration REKEY_AFTER_TIME = seconds(120);
    private static final Duration REJECT_AFTER_TIME = seconds(180);
    private static final Duration REKEY_ATTEMPT_TIME = seconds(90);
    private static final Duration REKEY_TIMEOUT = seconds(5);
    private static final Duration JITTER_MAX = millis(333);
    private static final Duration KEEPALIVE_TIMEOUT = seconds(10);
    private static final long REKEY_AFTER_MESSAGES = 1L << 60;
    /** 2^64 − 2^13 − 1, as an unsigned long. */
    private static final long REJECT_AFTER_MESSAGES = -(1L << 13) - 1;

    private static long at(double seconds) {
        return seconds(seconds).toNanos();
    }

    private static void assertBetween(long low, long high, long actual, String what) {
        assertTrue(actual >= low && actual < high,
                what + ": " + actual / 1e9 + " s is not in [" + low / 1e9 + " s, " + high / 1e9 + " s)");
    }

    // ---- the handshake, and the packets that wait for it ----

    @Test
    void eitherSideInitiatesAndThenDataFlowsBothWays() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.b.send(2);
        assertEquals(1, w.a.sent(INITIATION).size());
        assertEquals(List.of(), w.b.sent(INITIATION), "b had a session by the time it had something to send");
        assertEquals(1, w.b.sent(RESPONSE).size());
        assertEquals(List.of(1), w.b.delivered());
        assertEquals(List.of(2), w.a.delivered());
        assertTrue(w.a.peer().currentKeypair().isInitiator());

        // Once that session has expired, b has something to send first: this time b initiates.
        w.advance(REJECT_AFTER_TIME.plusSeconds(1));
        w.b.send(3);
        w.a.send(4);
        assertEquals(1, w.b.sent(INITIATION).size());
        assertEquals(1, w.a.sent(INITIATION).size(), "a answered; it did not start a handshake of its own");
        assertEquals(List.of(2, 3), w.a.delivered());
        assertEquals(List.of(1, 4), w.b.delivered());
        assertTrue(w.b.peer().currentKeypair().isInitiator());
        assertFalse(w.a.peer().currentKeypair().isInitiator());
    }

    @Test
    void packetsStagedBeforeTheHandshakeAreDeliveredInOrderBeforeNewerOnes() {
        TwoPeers w = new TwoPeers();
        // A handshake takes a round trip of 20 ms: everything a sends meanwhile waits for it.
        w.latency(millis(10));
        w.a.send(1, 2, 3);
        w.advance(millis(5));
        w.a.send(4, 5);
        assertEquals(5, w.a.peer().stagedCount());
        assertEquals(List.of(), w.a.sent(DATA));

        w.advance(millis(20));
        assertEquals(0, w.a.peer().stagedCount(), "the response released them");
        w.a.send(6, 7);
        w.advance(millis(20));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), w.b.delivered());
    }

    @Test
    void stagedPacketsKeepTheirPlaceWhenBuffersRunOut() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        w.a.send(1, 2, 3);
        // The pipeline is behind: when the response comes there is no buffer to move the staged packets into.
        w.a.buffersAvailable(false);
        w.advance(millis(20));
        assertEquals(3, w.a.peer().stagedCount());
        // 4 comes from the TUN device in a buffer of its own; it must not overtake 1-3.
        w.a.send(4);
        w.a.buffersAvailable(true);
        w.a.send(5);
        w.advance(millis(20));
        assertEquals(List.of(1, 2, 3, 4, 5), w.b.delivered());
    }

    @Test
    void initiationsThatCrossOnTheWireEndInASessionEvenWhileBothSidesKeepSending() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        List<Integer> fromA = new ArrayList<>();
        List<Integer> fromB = new ArrayList<>();
        // Both start sending at the same instant, a packet a second each. Each side answers the other's initiation,
        // which replaces its own handshake (and frees its index), so neither response finds a handshake to finish:
        // as in the kernel and wireguard-go. What must not happen is that both sides' next sends, 5 s later to the
        // nanosecond, cross again, and again: a response counts against REKEY_TIMEOUT like an initiation, so the
        // first jittered retransmission goes alone and completes.
        for (int i = 0; i < 10; i++) {
            fromA.add(i);
            fromB.add(-i);
            w.a.send(i);
            w.b.send(-i);
            w.advance(seconds(1));
        }
        assertEquals(2, w.a.dropped(Drop.UNKNOWN_INDEX) + w.b.dropped(Drop.UNKNOWN_INDEX), "one round crossed");
        assertEquals(fromA, w.b.delivered());
        assertEquals(fromB, w.a.delivered());
    }

    @Test
    void anInitiationOvertakenByOurOwnBeforeWeAnswerItLeavesOurOwnHandshakeWhole() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        // b initiates (its initiation held back for the moment), with packet 1 staged behind it.
        w.b.loseOutgoing(INITIATION);
        w.b.send(1);
        w.b.deliverOutgoing();
        // a consumes b's initiation, but its own goes out before it answers: a's handshake is now its own initiation,
        // so b's goes unanswered, and a's must still complete with a session that b's packets reach.
        w.a.injectInitiationOvertakenByOwn(w.b.sent(INITIATION).get(0));
        assertEquals(1, w.a.sent(INITIATION).size());
        assertEquals(List.of(), w.a.sent(RESPONSE), "a answered an initiation its handshake no longer holds");
        w.advance(millis(50));
        w.a.send(2);
        w.b.send(3);
        w.advance(millis(50));
        assertEquals(List.of(2), w.b.delivered());
        assertEquals(List.of(1, 3), w.a.delivered(), "a dropped: " + w.a.drops());
        assertEquals(0, w.a.dropped(Drop.UNKNOWN_INDEX));
    }

    // ---- §5.4.5: key confirmation ----

    @Test
    void responderSendsNothingOnItsNewKeypairUntilTheInitiatorsFirstMessageArrives() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        w.a.send(1);
        // At 10 ms b has answered a's initiation and holds the new keypair, but only as "next": a may not have it yet.
        w.advanceTo(millis(15));
        w.b.send(2);
        assertEquals(1, w.b.peer().stagedCount());
        assertEquals(List.of(), w.b.sent(DATA));

        // a's packet 1, sent when the response reached it at 20 ms, reaches b at 30 ms: then, and not before, 2 goes.
        w.advanceTo(millis(100));
        long confirmed = w.b.deliveries().get(0).at();
        assertEquals(millis(30).toNanos(), confirmed);
        assertEquals(confirmed, w.b.sent(DATA).get(0).at());
        assertEquals(List.of(2), w.a.delivered());
    }

    @Test
    void duringARekeyTheResponderSendsOnThePreviousSessionUntilTheNewOneIsConfirmed() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        w.a.send(1);
        w.advanceTo(REKEY_AFTER_TIME.plusSeconds(1));
        Keypair old = w.b.peer().currentKeypair();

        // a's packet 2 is its first send on a keypair older than REKEY_AFTER_TIME: an initiation follows it.
        w.a.send(2);
        w.advance(millis(15));
        assertEquals(2, w.b.sent(RESPONSE).size(), "b has answered the rekey");
        w.b.send(3);
        assertSame(old, w.b.sent(DATA).get(0).keypair(), "the new keypair is not confirmed yet");

        // a's keepalive on the new keypair (sent on the response, at +20 ms) reaches b at +30 ms.
        w.advance(millis(20));
        w.b.send(4);
        Keypair fresh = w.b.sent(DATA).get(1).keypair();
        assertNotSame(old, fresh);
        assertSame(w.b.peer().currentKeypair(), fresh);
        w.advance(millis(20));
        assertEquals(List.of(3, 4), w.a.delivered(), "a still opens what b sealed on the previous session");
    }

    // ---- §2.1: the endpoint follows authenticated packets ----

    @Test
    void theEndpointFollowsPacketsOnTheNewestSessionNotThoseSealedBeforeIt() {
        TwoPeers w = new TwoPeers();
        InetSocketAddress elsewhere = new InetSocketAddress("203.0.113.9", 4242);
        w.a.expectMoves();
        Datagram sealedBefore = sessionThenLostFromB(w, 2).get(0);

        // a hears nothing back and makes a new session (§6.2): b's packet 2 is now on a's "previous" session.
        // Arriving late from an old address, it is accepted, but it says where b was when it sealed it, not where b
        // is.
        untilANewSession(w);
        w.a.inject(sealedBefore, elsewhere);
        assertEquals(List.of(2), w.a.delivered());
        assertEquals(w.b.address, w.a.peer().endpoint(), "a packet sealed before the new session moved the endpoint");

        // The same late arrival on the newest session does move it: that is ordinary roaming. (a's packet 5 is b's
        // key confirmation: b sends on the new session from then on.)
        w.a.send(5);
        w.b.loseOutgoing(DATA);
        w.b.send(4);
        Datagram onTheNewest = w.b.sent(DATA).get(1);
        assertEquals(w.a.peer().currentKeypair().localIndex(), onTheNewest.keypair().remoteIndex());
        w.a.inject(onTheNewest, elsewhere);
        assertEquals(List.of(2, 4), w.a.delivered());
        assertEquals(elsewhere, w.a.peer().endpoint());
        assertEquals(List.of(w.b.address + " -> " + elsewhere), w.a.roams());
        // The device's set of endpoints (the handshake queue's known senders) followed, and forgets a removed peer.
        assertEquals(List.of(elsewhere), w.a.endpoints());
        w.a.peer().remove();
        assertEquals(List.of(), w.a.endpoints());
    }

    @Test
    void aHealthCheckMovesNothingNorDoesThePeerAnsweringFromTheCheckedAddressUntilItIsOver() {
        TwoPeers w = new TwoPeers();
        InetSocketAddress preferred = new InetSocketAddress("203.0.113.9", 4242);
        w.b.alsoAt(preferred);
        w.a.expectMoves();
        w.a.send(1);
        assertEquals(List.of(1), w.b.delivered());

        // Roaming checks b's preferred address; b answers from it (as a peer answers from where it was reached).
        w.advance(millis(50)); // past the responder's flood limit of one initiation per 20 ms
        w.b.loseOutgoing(RESPONSE);
        int responses = w.b.sent(RESPONSE).size();
        w.a.peer().check(List.of(preferred), w.now());
        w.settle();
        assertEquals(responses + 1, w.b.sent(RESPONSE).size(), "b answered the check");
        Datagram response = w.b.sent(RESPONSE).get(responses);
        w.b.deliverOutgoing();
        w.a.inject(response, preferred);
        assertNotEquals(w.a.peer().currentKeypair().localIndex(), 0);
        assertEquals(w.b.address, w.a.peer().endpoint(), "the check's answer moved the endpoint");
        assertEquals(List.of(), w.a.roams());

        // b, until it hears a's next message from the current path, sends from the checked address: no move either.
        w.b.loseOutgoing(DATA);
        w.b.send(2);
        w.a.inject(w.b.sent(DATA).get(w.b.sent(DATA).size() - 1), preferred);
        assertEquals(List.of(2), w.a.delivered());
        assertEquals(w.b.address, w.a.peer().endpoint(), "a packet from the checked address, during the check");

        // Once the check is over, the peer's packets from there are ordinary roaming again.
        w.advance(seconds(2));
        w.b.send(3);
        w.a.inject(w.b.sent(DATA).get(w.b.sent(DATA).size() - 1), preferred);
        assertEquals(List.of(2, 3), w.a.delivered());
        assertEquals(preferred, w.a.peer().endpoint());
        // A check of b's first address, answered from there: pinned. A probe (which moves by design) ends the pin.
        w.a.peer().check(List.of(w.b.address), w.now());
        w.advance(millis(50)); // past the responder's flood limit of one initiation per 20 ms
        assertEquals(preferred, w.a.peer().endpoint());
        w.a.peer().probe(List.of(w.b.address), w.now());
        w.advance(millis(50));
        assertEquals(w.b.address, w.a.peer().endpoint());
    }

    /**
     * Roaming sends one initiation to two of b's addresses, and b (the kernel, wireguard-go) answers both copies,
     * keeping only the session of its second answer. a takes the first answer; the second makes it initiate again,
     * to the endpoint alone, once b's flood limit allows (30 ms after the probe): then both hold the same session,
     * and the endpoint never moved.
     */
    @Test
    void aSecondAnswerToTheSameInitiationIsSettledByANewHandshakeWithoutMovingTheEndpoint() {
        TwoPeers w = new TwoPeers();
        InetSocketAddress second = new InetSocketAddress("203.0.113.9", 4242);
        w.b.alsoAt(second);
        w.a.loseOutgoing(INITIATION);
        w.a.peer().probe(List.of(w.b.address, second), w.now());
        w.settle();
        List<Datagram> copies = w.a.sent(INITIATION);
        assertEquals(2, copies.size());
        assertTrue(java.util.Arrays.equals(copies.get(0).bytes(), copies.get(1).bytes()), "one initiation, two copies");

        w.b.loseOutgoing(RESPONSE);
        w.b.inject(copies.get(0));
        w.b.forgetPeerState();
        w.b.inject(copies.get(1));
        List<Datagram> answers = w.b.sent(RESPONSE);
        assertEquals(2, answers.size());
        w.b.deliverOutgoing();
        w.a.deliverOutgoing();

        w.advance(millis(2));
        w.a.inject(answers.get(0), w.b.address);
        assertNotNull(w.a.peer().currentKeypair());
        assertEquals(1, w.b.dropped(Drop.UNKNOWN_INDEX), "b no longer holds the first answer's session");
        w.a.send(1);
        assertEquals(List.of(), w.b.delivered(), "sent on the session b dropped");

        w.a.inject(answers.get(1), second);
        assertEquals(copies.size(), w.a.sent(INITIATION).size(), "no initiation yet: b would refuse it");
        w.advance(millis(27));
        assertEquals(copies.size(), w.a.sent(INITIATION).size(), "29 ms after the probe");
        w.advance(millis(1));
        assertEquals(copies.size() + 1, w.a.sent(INITIATION).size(), "30 ms after the probe, despite REKEY_TIMEOUT");
        assertEquals(w.b.address, w.a.peer().endpoint(), "the endpoint moved");
        assertEquals(List.of(), w.a.roams());

        w.a.send(2);
        assertEquals(List.of(2), w.b.delivered());
        w.b.send(3);
        assertEquals(List.of(3), w.a.delivered());
        // Neither answer counts again: the window closed with the second.
        int unknown = w.a.dropped(Drop.UNKNOWN_INDEX);
        w.a.inject(answers.get(0), w.b.address);
        w.a.inject(answers.get(1), second);
        assertEquals(unknown + 2, w.a.dropped(Drop.UNKNOWN_INDEX));
        assertEquals(copies.size() + 1, w.a.sent(INITIATION).size());
    }

    @Test
    void furtherAnswersAreLookedForOnlyUntilThePeerSendsOnTheSessionOrForASecond() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        assertEquals(List.of(1), w.b.delivered());
        assertTrue(w.a.peer().answersOpen(), "after a's handshake completed");
        w.b.send(2);
        assertFalse(w.a.peer().answersOpen(), "b sent on the session: it is the one b kept");
        assertEquals(jwg.noise.Handshake.State.ZEROED, w.a.peer().handshake().state());

        // One-way traffic: nothing comes back on the session, and the window closes by the clock.
        w.advance(REKEY_AFTER_TIME.plus(seconds(1)));
        w.a.send(3);
        w.settle();
        assertTrue(w.a.peer().answersOpen(), "after the rekey's handshake");
        w.b.loseOutgoing();
        w.a.send(4);
        w.advance(millis(999));
        assertTrue(w.a.peer().answersOpen());
        w.advance(millis(1));
        assertFalse(w.a.peer().answersOpen());
        assertEquals(jwg.noise.Handshake.State.ZEROED, w.a.peer().handshake().state());
    }

    @Test
    void aPeerStillOnThePreviousSessionMovesTheEndpointOnceRekeyTimeoutHasPassed() {
        TwoPeers w = new TwoPeers();
        InetSocketAddress elsewhere = new InetSocketAddress("203.0.113.9", 4242);
        w.a.expectMoves();
        List<Datagram> lost = sessionThenLostFromB(w, 2, 3);
        Datagram early = lost.get(0);
        Datagram late = lost.get(1);
        w.a.loseOutgoing(DATA, KEEPALIVE);
        untilANewSession(w);

        // b never heard of the new session (a's messages on it were lost) and roamed: it seals on a's "previous".
        w.a.inject(early, elsewhere);
        assertEquals(w.b.address, w.a.peer().endpoint(), "within REKEY_TIMEOUT it may be a packet still in flight");
        w.advance(REKEY_TIMEOUT);
        w.a.inject(late, elsewhere);
        assertEquals(elsewhere, w.a.peer().endpoint(), "after it, the peer is where its packets come from");
    }

    /** A session from a's packet 1, then b's packets seqs sealed on it and lost on the way: returned to inject later. */
    private static List<Datagram> sessionThenLostFromB(TwoPeers w, int... seqs) {
        w.a.send(1);
        w.b.loseOutgoing(DATA);
        w.b.send(seqs);
        List<Datagram> lost = w.b.sent(DATA);
        w.b.deliverOutgoing();
        return lost;
    }

    /** Runs the clock until a has a session other than the one it has now, and stops within 10 ms of it. */
    private static void untilANewSession(TwoPeers w) {
        Keypair before = w.a.peer().currentKeypair();
        for (int i = 0; w.a.peer().currentKeypair() == before; i++) {
            assertTrue(i < 20_000, "no new session within 200 s");
            w.advance(millis(10));
        }
    }

    // ---- key erasure ----

    @Test
    void aKeypairPushedOutByNewerSessionsOrItsPeersRemovalHasItsKeysErased() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        Keypair first = w.a.peer().currentKeypair();
        w.advanceTo(REKEY_AFTER_TIME.plusSeconds(1));
        w.a.send(2);
        w.advance(millis(1));
        assertFalse(first.isDestroyed(), "the previous session stays usable for messages sealed before the switch");
        w.advanceTo(REKEY_AFTER_TIME.multipliedBy(2).plusSeconds(2));
        w.a.send(3);
        w.advance(millis(1));
        assertTrue(first.isDestroyed(), "two handshakes later it is gone, and so are its keys");
        Keypair last = w.a.peer().currentKeypair();
        assertFalse(last.isDestroyed());
        w.a.peer().remove();
        assertTrue(last.isDestroyed(), "a removed peer keeps no session keys");
    }

    // ---- §5.4.6: replay ----

    @Test
    void aTransportMessageDeliveredTwiceIsAcceptedOnce() {
        TwoPeers w = new TwoPeers();
        w.a.send(1, 2);
        Datagram first = w.a.sent(DATA).get(0);
        w.b.inject(first);
        assertEquals(List.of(1, 2), w.b.delivered());
        assertEquals(1, w.b.dropped(Drop.REPLAYED_COUNTER));
    }

    // ---- removal ----

    @Test
    void removalMidHandshakeFreesTheHandshakesIndex() {
        TwoPeers w = new TwoPeers();
        w.a.loseOutgoing();
        w.a.send(1);
        assertEquals(1, w.a.sent(INITIATION).size());
        assertEquals(1, w.a.indices().size());

        w.a.peer().remove();
        assertEquals(0, w.a.indices().size());
        assertEquals(1, w.a.dropped(Drop.PEER_GONE), "the staged packet");
        w.advance(seconds(30));
        assertEquals(1, w.a.sent(INITIATION).size(), "a removed peer retransmits nothing");
    }

    @Test
    void removalOfAResponderThatWasNeverConfirmedFreesItsIndex() {
        TwoPeers w = new TwoPeers();
        w.b.loseOutgoing();
        w.a.send(1);
        assertEquals(1, w.b.indices().size(), "the unconfirmed keypair's index");
        w.b.peer().remove();
        assertEquals(0, w.b.indices().size());
    }

    // ---- §6.2: rekeying ----

    @Test
    void rekeyAfterTimeStartsANewHandshakeOnTheInitiatorsNextSend() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        Keypair first = w.a.peer().currentKeypair();
        w.advanceTo(REKEY_AFTER_TIME);
        w.a.send(2);
        assertEquals(1, w.a.sent(INITIATION).size(), "not older than REKEY_AFTER_TIME yet");

        w.advance(millis(1));
        w.a.send(3);
        assertEquals(List.of(0L, REKEY_AFTER_TIME.toNanos() + at(0.001)), w.a.times(INITIATION));
        assertNotSame(first, w.a.peer().currentKeypair());
        assertEquals(List.of(1, 2, 3), w.b.delivered());
    }

    @Test
    void rekeyAfterTimeDoesNotMakeTheResponderInitiate() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advanceTo(REKEY_AFTER_TIME.plusSeconds(30));
        w.b.send(2);
        assertEquals(List.of(2), w.a.delivered());
        assertEquals(List.of(), w.b.sent(INITIATION), "the responder leaves rekeying to the initiator");
    }

    @Test
    void rekeyAfterTimeCountsTheInitiatorsKeepalivesAsSends() {
        TwoPeers w = new TwoPeers();
        w.a.peer().setPersistentKeepalive(25);
        w.a.send(1);
        w.advanceTo(seconds(150));
        // a sends nothing but persistent keepalives; the first of them on a keypair past REKEY_AFTER_TIME rekeys.
        long firstOnAnOldKeypair = w.a.times(KEEPALIVE).stream()
                .filter(t -> t > REKEY_AFTER_TIME.toNanos()).findFirst().orElseThrow();
        assertEquals(List.of(0L, firstOnAnOldKeypair), w.a.times(INITIATION));
    }

    @Test
    void rekeyAfterMessagesStartsANewHandshakeOnTheInitiatorsNextSend() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advance(REKEY_TIMEOUT.multipliedBy(2));
        Keypair first = w.a.peer().currentKeypair();
        TwoPeers.spendCounters(first, REKEY_AFTER_MESSAGES - 1);
        w.a.send(2);
        assertEquals(1, w.a.sent(INITIATION).size(), "2 was message number REKEY_AFTER_MESSAGES, not past it");

        w.a.send(3);
        assertEquals(2, w.a.sent(INITIATION).size());
        assertNotSame(first, w.a.peer().currentKeypair());
        assertEquals(List.of(1, 2, 3), w.b.delivered());
    }

    @Test
    void anInitiatorThatOnlyReceivesRekeysAfter165Seconds() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        long lastMinute = REJECT_AFTER_TIME.toNanos() - KEEPALIVE_TIMEOUT.toNanos() - REKEY_TIMEOUT.toNanos();
        w.advanceTo(Duration.ofNanos(lastMinute));
        w.b.send(2);
        assertEquals(1, w.a.sent(INITIATION).size(), "not older than 165 s yet");

        w.advance(millis(1));
        w.b.send(3);
        assertEquals(List.of(0L, lastMinute + at(0.001)), w.a.times(INITIATION));
        assertEquals(List.of(2, 3), w.a.delivered());
    }

    // ---- §6.2: REJECT_AFTER_TIME, REJECT_AFTER_MESSAGES ----

    @Test
    void rejectAfterMessagesStopsSendingOnAKeypairAndStartsAHandshake() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advance(REKEY_TIMEOUT.multipliedBy(2));
        TwoPeers.spendCounters(w.a.peer().currentKeypair(), REJECT_AFTER_MESSAGES - 1);
        // The rekey that packet 2 asks for is lost, so the exhausted keypair stays current.
        w.a.loseOutgoing(INITIATION);
        w.a.send(2);
        assertEquals(REJECT_AFTER_MESSAGES - 1, w.a.sent(DATA).get(1).counter());
        w.a.send(3);
        assertEquals(2, w.a.sent(DATA).size(), "no counter was left for 3");
        assertEquals(1, w.a.peer().stagedCount());

        w.a.deliverOutgoing();
        w.advance(REKEY_TIMEOUT.plus(JITTER_MAX));
        assertEquals(List.of(1, 2, 3), w.b.delivered(), "3 went on the next session");
    }

    @Test
    void rejectAfterTimeStopsSendingOnAKeypairAndStartsAHandshake() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.b.send(2);
        w.advanceTo(REJECT_AFTER_TIME);
        // Both directions fail for a while, so what each side does with the expired keypair stays visible.
        w.a.loseOutgoing();
        w.b.loseOutgoing();
        w.a.send(3);
        w.b.send(4);
        for (TwoPeers.Side s : List.of(w.a, w.b)) {
            assertEquals(1, s.sent(DATA).size(), s + " sealed nothing on the expired keypair");
            assertEquals(1, s.peer().stagedCount(), s + " staged its packet");
            assertEquals(REJECT_AFTER_TIME.toNanos(), s.times(INITIATION).get(s.times(INITIATION).size() - 1),
                    s + " started a handshake instead");
        }

        w.a.deliverOutgoing();
        w.b.deliverOutgoing();
        w.advance(REKEY_TIMEOUT.plus(JITTER_MAX));
        assertEquals(List.of(1, 3), w.b.delivered());
        assertEquals(List.of(2, 4), w.a.delivered());
    }

    @Test
    void rejectAfterTimeStopsReceivingOnAKeypair() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advanceTo(REJECT_AFTER_TIME.minusMillis(2));
        w.a.loseOutgoing();
        w.a.send(2, 3);
        Datagram two = w.a.sent(DATA).get(1);
        Datagram three = w.a.sent(DATA).get(2);
        assertSame(two.keypair(), three.keypair());

        // Both were sealed in time; they arrive late, one just before the keypair expires and one just after.
        w.advance(millis(1));
        w.b.inject(two);
        w.advance(millis(1));
        w.b.inject(three);
        assertEquals(List.of(1, 2), w.b.delivered());
        assertEquals(1, w.b.dropped(Drop.KEYPAIR_EXPIRED));
    }

    // ---- §6.4: handshake retransmission ----

    @Test
    void anUnansweredInitiationIsRetransmittedAfterRekeyTimeoutPlusJitter() {
        TwoPeers w = new TwoPeers();
        w.b.loseOutgoing(RESPONSE);
        w.a.send(1);
        w.advance(seconds(60));
        List<Long> t = w.a.times(INITIATION);
        assertTrue(t.size() >= 11, "retransmitted every 5 s or so: " + t.size());
        Set<Long> gaps = new HashSet<>();
        for (int i = 1; i < t.size(); i++) {
            long gap = t.get(i) - t.get(i - 1);
            assertBetween(REKEY_TIMEOUT.toNanos(), REKEY_TIMEOUT.toNanos() + JITTER_MAX.toNanos(), gap,
                    "retransmission " + i);
            gaps.add(gap);
        }
        // Without jitter, peers that lost a handshake at the same moment would keep retrying in lockstep.
        assertTrue(gaps.size() > t.size() / 2, "jittered: " + gaps);
    }

    @Test
    void theHandshakeGivesUpAfterRekeyAttemptTimeAndDropsTheStagedPackets() {
        TwoPeers w = new TwoPeers();
        w.b.loseOutgoing(RESPONSE);
        w.a.send(1, 2, 3);
        w.advance(seconds(200));
        List<Long> t = w.a.times(INITIATION);
        // As wireguard-go and the kernel: the first and REKEY_ATTEMPT_TIME / REKEY_TIMEOUT + 1 = 19 retransmissions.
        assertEquals(20, t.size());
        long last = t.get(t.size() - 1);
        assertTrue(last >= REKEY_ATTEMPT_TIME.toNanos(), "it kept trying for REKEY_ATTEMPT_TIME");
        List<Long> gaveUp = w.a.droppedAt(Drop.HANDSHAKE_GAVE_UP);
        assertEquals(3, gaveUp.size());
        assertBetween(last + REKEY_TIMEOUT.toNanos(), last + REKEY_TIMEOUT.toNanos() + JITTER_MAX.toNanos(),
                gaveUp.get(0), "gave up when the last initiation went unanswered");
        assertEquals(0, w.a.peer().stagedCount());

        // Giving up is not for ever: the next packet starts again.
        w.b.deliverOutgoing();
        w.a.send(4);
        assertEquals(List.of(4), w.b.delivered());
    }

    // ---- §6.5: keepalives ----

    @Test
    void dataReceivedAndNothingSentBackForKeepaliveTimeoutIsAnsweredWithOneKeepalive() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advance(KEEPALIVE_TIMEOUT.minusMillis(1));
        assertEquals(List.of(), w.b.sent(KEEPALIVE));
        w.advance(millis(1));
        assertEquals(List.of(KEEPALIVE_TIMEOUT.toNanos()), w.b.times(KEEPALIVE));
        w.advance(seconds(100));
        assertEquals(List.of(KEEPALIVE_TIMEOUT.toNanos()), w.b.times(KEEPALIVE), "one keepalive, not one per interval");
        assertEquals(List.of(KEEPALIVE_TIMEOUT.toNanos()), w.a.keepalivesReceived());
    }

    @Test
    void dataSentBackWithinKeepaliveTimeoutMakesThePassiveKeepaliveUnnecessary() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advanceTo(seconds(5));
        w.b.send(2);
        w.advance(seconds(60));
        assertEquals(List.of(), w.b.sent(KEEPALIVE));
        assertEquals(List.of(at(15)), w.a.times(KEEPALIVE), "a, which got 2 and sent nothing back, does send one");
    }

    @Test
    void persistentKeepaliveIsSentAfterEveryIntervalOfSilence() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advanceTo(seconds(20));
        // As the UAPI does when the interval is switched on: a first keepalive at once.
        assertTrue(w.b.peer().setPersistentKeepalive(25));
        w.b.peer().sendKeepaliveNow(w.now());
        w.advanceTo(seconds(100));
        assertEquals(List.of(at(10), at(20), at(45), at(70), at(95)), w.b.times(KEEPALIVE),
                "the passive keepalive for 1, then every 25 s");

        // Traffic either way restarts the interval: b's data at 100 s, a's passive keepalive for it at 110 s.
        w.b.send(2);
        w.advanceTo(seconds(140));
        assertEquals(List.of(at(10), at(20), at(45), at(70), at(95), at(135)), w.b.times(KEEPALIVE));
    }

    // ---- §6: a dead session, an idle peer ----

    @Test
    void dataSentAndNothingReceivedForKeepalivePlusRekeyTimeoutStartsANewHandshake() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        w.advanceTo(seconds(20));
        w.b.loseOutgoing();
        w.a.send(2);
        Duration deadline = KEEPALIVE_TIMEOUT.plus(REKEY_TIMEOUT);
        w.advance(deadline.minusMillis(1));
        assertEquals(1, w.a.sent(INITIATION).size());
        w.advance(JITTER_MAX.plusMillis(1));
        List<Long> t = w.a.times(INITIATION);
        assertEquals(2, t.size());
        assertBetween(at(20) + deadline.toNanos(), at(20) + deadline.plus(JITTER_MAX).toNanos(), t.get(1),
                "the new handshake");
    }

    @Test
    void keysAreErasedAfterThreeTimesRejectAfterTimeWithoutANewSession() {
        TwoPeers w = new TwoPeers();
        w.a.send(1);
        Duration erase = REJECT_AFTER_TIME.multipliedBy(3);
        w.advanceTo(erase.minusMillis(1));
        for (TwoPeers.Side s : List.of(w.a, w.b)) {
            assertNotNull(s.peer().currentKeypair());
            assertEquals(1, s.indices().size());
        }
        w.advanceTo(erase);
        for (TwoPeers.Side s : List.of(w.a, w.b)) {
            assertNull(s.peer().currentKeypair(), s + " erased its keypairs");
            assertEquals(0, s.indices().size(), s + " freed their indices");
        }
        w.a.send(2);
        assertEquals(List.of(1, 2), w.b.delivered(), "the next packet starts a new handshake");
    }

    @Test
    void theHookHearsOfASessionComingUpOnceAndGoingDownOnceWhenItsKeysAreErased() {
        TwoPeers w = new TwoPeers();
        String at = String.valueOf(w.a.peer().endpoint());
        assertEquals(List.of("ENDPOINT_CHANGED null -> " + at + " (set by wg)"), w.a.events());
        w.a.send(1);
        w.advance(REJECT_AFTER_TIME.multipliedBy(2));
        w.a.send(2);
        assertEquals(List.of("SESSION_UP null -> " + at + " (handshake)"), sessionEvents(w.a),
                "one session_up, though a rekey followed");
        assertEquals(List.of("SESSION_UP"), sessionEvents(w.b).stream().map(e -> e.split(" ")[0]).toList());
        w.advance(REJECT_AFTER_TIME.multipliedBy(3));
        assertEquals("SESSION_DOWN null -> " + at + " (no handshake for 540 s)", sessionEvents(w.a).get(1));
        w.a.send(3);
        w.a.peer().remove();
        List<String> events = sessionEvents(w.a);
        assertEquals(4, events.size(), events.toString());
        assertEquals("SESSION_UP null -> " + at + " (handshake)", events.get(2), "up again");
        assertEquals("SESSION_DOWN null -> " + at + " (peer removed)", events.get(3));
    }

    @Test
    void thePathsRoundTripIsTheLeastSampleNotTheFirstHandshakes() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(300));
        w.a.send(1);
        w.advance(seconds(2));
        assertEquals(millis(600).toNanos(), w.a.peer().pathRttNanos(), "the handshake's round trip");
        w.b.send(2);   // pays what a owed since packet 1: a sample of seconds, larger, not kept
        w.advance(seconds(1));
        assertEquals(millis(600).toNanos(), w.a.peer().pathRttNanos());
        w.latency(millis(10));
        w.a.send(3);
        w.advance(millis(5));
        w.b.send(4);   // reaches a 15 ms after packet 3 left it
        w.advance(seconds(1));
        assertEquals(millis(15).toNanos(), w.a.peer().pathRttNanos(), "the least sample wins");
        w.latency(millis(100));
        w.a.send(5);
        w.advance(millis(50));
        w.b.send(6);
        w.advance(seconds(1));
        assertEquals(millis(15).toNanos(), w.a.peer().pathRttNanos(), "a larger one does not, while the least is recent");
    }

    private static List<String> sessionEvents(TwoPeers.Side s) {
        return s.events().stream().filter(e -> e.startsWith("SESSION_")).toList();
    }

    // ---- all of it at once ----

    @Test
    void aLongConversationRekeysEveryRekeyAfterTimeWithoutLosingOrReorderingAPacket() {
        TwoPeers w = new TwoPeers();
        w.latency(millis(10));
        List<Integer> fromA = new ArrayList<>();
        List<Integer> fromB = new ArrayList<>();
        // A packet each way every second for half an hour, b half a second after a (so their first sends do not
        // start two handshakes that cross: see the test above).
        for (int i = 0; i < 1800; i++) {
            fromA.add(i);
            fromB.add(-i);
            w.a.send(i);
            w.advance(seconds(0.5));
            w.b.send(-i);
            w.advance(seconds(0.5));
            // Previous, current and next keypairs, or a handshake in flight in place of next: never more.
            assertTrue(w.a.indices().size() <= 3, "a holds " + w.a.indices().size() + " indices");
            assertTrue(w.b.indices().size() <= 3, "b holds " + w.b.indices().size() + " indices");
        }
        w.advance(seconds(1));
        assertEquals(fromA, w.b.delivered());
        assertEquals(fromB, w.a.delivered());
        assertEquals(List.of(), w.a.drops());
        assertEquals(List.of(), w.b.drops());
        assertEquals(List.of(), w.b.sent(INITIATION), "b has a fresh session whenever it sends");
        // a's sessions begin a round trip after its initiations, and a sends on whole seconds, so its first send past
        // REKEY_AFTER_TIME is 121 s after the previous initiation.
        List<Long> t = w.a.times(INITIATION);
        assertEquals(15, t.size(), "at 0 s, 121 s, 242 s, ..., 1694 s");
        for (int i = 1; i < t.size(); i++) {
            assertBetween(REKEY_AFTER_TIME.toNanos(), REKEY_AFTER_TIME.toNanos() + at(1.021), t.get(i) - t.get(i - 1),
                    "rekey " + i);
        }
    }
}
