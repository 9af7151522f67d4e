package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of what a datagram from anyone meets before it is authenticated: classification, mac1,
 * the consumption of an initiation, a response or a cookie reply against a real identity with a configured peer, and
 * the receiver lookup and opening of a transport message. Whatever the bytes, nothing throws, each step allocates no
 * more than a fixed amount, and the outcome is a {@link Drop} reason or an accepted message; a message is accepted
 * only if it is byte for byte one this side's peer made (outside the fields the protocol leaves unauthenticated).
 *
 * <p>The kept inputs (src/test/resources/jwg/noise/ReceiveFuzzTestInputs/) hold a valid message of each type, built
 * by {@link #valid} from fixed keys, ephemerals and timestamp, so that every run rebuilds the same receive state they
 * were made for and the fuzzer mutates from messages that get all the way through. Without JAZZER_FUZZ, `mvn test`
 * runs them as a regression test; bin/fuzz fuzzes.
 *
 * <p>Each datagram meets fresh receive state (a new responder handshake, an initiator handshake in the one state the
 * kept response answers, a cookie generator that has sent the kept initiation, a receiving keypair that has seen
 * nothing), so no input's fate depends on the ones before it.
 */
class ReceiveFuzzTest {
    static final int INITIATOR_INDEX = 0x11223344;
    static final byte[] SOURCE = CookieChecker.source(new byte[] {(byte) 192, 0, 2, 1}, 51820);
    private static final long NOW = Peers.NOW;
    private static final Secret PSK = Secret.of(Peers.bytes(7, 32));
    private static final byte[] INITIATOR_EPHEMERAL = Peers.bytes(100, 32);
    private static final byte[] RESPONDER_EPHEMERAL = Peers.bytes(101, 32);
    private static final byte[] TIMESTAMP = Tai64n.ofEpochNanos(Peers.EPOCH);
    private static final StaticIdentity INITIATOR = Peers.identity(1);
    private static final StaticIdentity RESPONDER = Peers.identity(2);
    /** Transport keys are seeded, as {@link Peers#keypairs} makes them: opening does not care how they were agreed. */
    private static final long TRANSPORT_SEED = 1;
    /**
     * What one datagram may cost the receive path in heap, whatever its content: far above what a message needs
     * (a few small arrays and results), far below what reading a length or count out of the bytes and allocating by
     * it would take.
     */
    private static final long ALLOCATION_BOUND = 256 * 1024;
    /** The reasons a handshake message may be dropped for before it is authenticated, by this fixture's receiver. */
    private static final Set<Drop> HANDSHAKE_DROPS = EnumSet.of(Drop.DECRYPT_FAILED, Drop.UNKNOWN_PEER,
            Drop.REPLAYED_TIMESTAMP, Drop.ZERO_DH);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** The valid messages, rebuilt from the fixed secrets; the kept inputs hold the same bytes. */
    static final class Valid {
        final byte[] initiation = new byte[Message.INITIATION_LEN];
        final byte[] response = new byte[Message.RESPONSE_LEN];
        final byte[] cookieReply = new byte[Message.COOKIE_REPLY_LEN];
        final byte[] keepalive;
        final byte[] data;
        /** The index under which the receiving keypair is found, chosen by a seeded index table. */
        final int transportIndex;

        Valid() {
            awaitingResponse(initiation);
            new CookieGenerator(RESPONDER.publicKey()).addMacs(initiation, 0, initiation.length, NOW);
            Handshake responder = responderHandshake();
            Result<Handshake> consumed = Handshake.consumeInitiation(RESPONDER, initiation, 0,
                    k -> k.equals(INITIATOR.publicKey()) ? responder : null, NOW);
            assertSame(responder, consumed.valueOrNull());
            assertTrue(responder.createResponse(response, 0, 0x55667788, RESPONDER_EPHEMERAL));
            new CookieGenerator(INITIATOR.publicKey()).addMacs(response, 0, response.length, NOW);
            new CookieChecker(RESPONDER, new SeededRandom(3)).createReply(initiation, 0, initiation.length, SOURCE,
                    NOW, cookieReply, 0);
            transportIndex = indexTable(null).allocate(null);
            Keypair sender = Peers.keypairs(TRANSPORT_SEED, INITIATOR_INDEX, transportIndex).initiator();
            keepalive = Peers.seal(sender, new byte[0], 0);
            byte[] ipv4 = new byte[40];
            ipv4[0] = 0x45;
            ipv4[3] = 40;
            data = Peers.seal(sender, ipv4, Protocol.DEFAULT_MTU);
        }
    }

    private static final Valid valid = new Valid();
    /** Whether allocation is checked: not while classes load and providers set up on their first use. */
    private static boolean warm;

    static {
        for (byte[] m : new byte[][] {valid.initiation, valid.response, valid.cookieReply, valid.keepalive,
                valid.data}) {
            receive(m.clone());
        }
        warm = true;
    }

    @FuzzTest
    void anyDatagramIsDroppedWithAReasonOrIsOneOurPeerMade(byte[] datagram) {
        receive(datagram);
    }

    /** The kept valid inputs must be what {@link Valid} builds now, or they no longer reach past the first check. */
    @Test
    void theKeptValidMessagesAreStillValid() throws IOException {
        assertArrayEquals(valid.initiation, kept("initiation"));
        assertArrayEquals(valid.response, kept("response"));
        assertArrayEquals(valid.cookieReply, kept("cookie-reply"));
        assertArrayEquals(valid.keepalive, kept("transport-keepalive"));
        assertArrayEquals(valid.data, kept("transport-data"));
        for (byte[] m : new byte[][] {valid.initiation, valid.response, valid.cookieReply, valid.keepalive,
                valid.data}) {
            assertEquals("accepted", receive(m.clone()));
        }
    }

    private static byte[] kept(String name) throws IOException {
        String path = "ReceiveFuzzTestInputs/anyDatagramIsDroppedWithAReasonOrIsOneOurPeerMade/valid-" + name;
        try (InputStream in = ReceiveFuzzTest.class.getResourceAsStream(path)) {
            assertNotNull(in, path);
            return in.readAllBytes();
        }
    }

    // ---- the receive path ----

    /** One datagram through the steps a device takes; "accepted" or why it went no further. */
    static String receive(byte[] m) {
        int type = Message.classify(m, 0, m.length);
        assertEquals(expectedType(m), type, "classification");
        byte[] framed = new byte[m.length + 11];
        Arrays.fill(framed, (byte) 0x5a);
        System.arraycopy(m, 0, framed, 7, m.length);
        assertEquals(type, Message.classify(framed, 7, m.length), "classification of the same bytes in a larger buffer");
        String outcome = switch (type) {
            case Message.INITIATION -> initiation(m);
            case Message.RESPONSE -> response(m);
            case Message.COOKIE_REPLY -> cookieReply(m);
            case Message.TRANSPORT -> transport(m);
            default -> Drop.MALFORMED.name();
        };
        assertNotNull(outcome);
        return outcome;
    }

    /**
     * The type the protocol's table gives these bytes (wireguard.md "Messages"), written apart from
     * {@link Message#classify}: a known type byte, three zero bytes, and exactly the type's length (transport: at
     * least header and tag).
     */
    static int expectedType(byte[] m) {
        if (m.length < 4 || m[1] != 0 || m[2] != 0 || m[3] != 0) {
            return Message.INVALID;
        }
        return switch (m[0]) {
            case 1 -> m.length == 148 ? Message.INITIATION : Message.INVALID;
            case 2 -> m.length == 92 ? Message.RESPONSE : Message.INVALID;
            case 3 -> m.length == 64 ? Message.COOKIE_REPLY : Message.INVALID;
            case 4 -> m.length >= 32 ? Message.TRANSPORT : Message.INVALID;
            default -> Message.INVALID;
        };
    }

    /**
     * Message 1 at the responder: mac1, then (under load) mac2 and a cookie reply, then the handshake. The same
     * bytes with mac1 recomputed go to the handshake too: anyone who knows the responder's public key can do that,
     * so the handshake must stand on its own.
     */
    private static String initiation(byte[] m) {
        CookieChecker checker = new CookieChecker(RESPONDER, new SeededRandom(4));
        byte[] forged = m.clone();
        new CookieGenerator(RESPONDER.publicKey()).addMacs(forged, 0, forged.length, NOW);
        Handshake responder = responderHandshake();

        long before = allocated();
        boolean mac1 = checker.checkMac1(m, 0, m.length);
        boolean mac2 = checker.checkMac2(m, 0, m.length, SOURCE, NOW);
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        if (mac1) {
            checker.createReply(m, 0, m.length, SOURCE, NOW, reply, 0);
        }
        Result<Handshake> asSent = mac1 ? consumeInitiation(m, responder) : null;
        Result<Handshake> asForged = consumeInitiation(forged, responderHandshake());
        assertBounded(before);

        assertFalse(mac2, "mac2 without a cookie ever handed out");
        assertEquals(mac1, same(m, valid.initiation, 0, Message.INITIATION_MAC2), "mac1 holds only for our peer's");
        if (mac1) {
            assertEquals(Message.COOKIE_REPLY, Message.classify(reply, 0, reply.length));
            assertEquals(Message.getInt(m, Message.INITIATION_SENDER), Message.getInt(reply, Message.COOKIE_REPLY_RECEIVER));
            assertTrue(asSent.isOk(), () -> "our peer's initiation was dropped: " + Peers.reason(asSent));
            assertEquals(Handshake.State.INITIATION_CONSUMED, responder.state());
        }
        // The sender index is outside the handshake hash: only mac1 covers it.
        boolean forgeable = same(forged, valid.initiation, Message.INITIATION_EPHEMERAL, Message.INITIATION_MAC1);
        assertDecided(asForged, forgeable, "initiation with mac1 recomputed");
        return mac1 ? "accepted" : Drop.BAD_MAC1.name();
    }

    private static Result<Handshake> consumeInitiation(byte[] m, Handshake responder) {
        return Handshake.consumeInitiation(RESPONDER, m, 0, k -> k.equals(INITIATOR.publicKey()) ? responder : null,
                NOW);
    }

    /** Message 2 at the initiator: its receiver index must be our handshake's, then mac1, then the handshake. */
    private static String response(byte[] m) {
        CookieChecker checker = new CookieChecker(INITIATOR, new SeededRandom(5));
        byte[] forged = m.clone();
        Message.putInt(forged, Message.RESPONSE_RECEIVER, INITIATOR_INDEX);
        new CookieGenerator(INITIATOR.publicKey()).addMacs(forged, 0, forged.length, NOW);
        Handshake initiator = awaitingResponse(new byte[Message.INITIATION_LEN]);
        Handshake forgedTo = awaitingResponse(new byte[Message.INITIATION_LEN]);

        long before = allocated();
        boolean ours = Message.getInt(m, Message.RESPONSE_RECEIVER) == initiator.localIndex();
        boolean mac1 = ours && checker.checkMac1(m, 0, m.length);
        Result<Handshake> asSent = mac1 ? initiator.consumeResponse(m, 0) : null;
        Result<Handshake> asForged = forgedTo.consumeResponse(forged, 0);
        Keypair keys = asForged.isOk() ? forgedTo.deriveKeypair(NOW) : null;
        assertBounded(before);

        assertEquals(mac1, same(m, valid.response, 0, Message.RESPONSE_MAC2), "mac1 holds only for our peer's");
        if (mac1) {
            assertTrue(asSent.isOk(), () -> "our peer's response was dropped: " + Peers.reason(asSent));
        }
        // The response's sender index is outside the handshake hash, as the initiation's is.
        boolean forgeable = same(forged, valid.response, Message.RESPONSE_RECEIVER, Message.RESPONSE_MAC1);
        assertDecided(asForged, forgeable, "response with mac1 recomputed");
        if (keys != null) {
            assertEquals(Message.getInt(forged, Message.RESPONSE_SENDER), keys.remoteIndex());
        }
        return !ours ? Drop.UNKNOWN_INDEX.name() : mac1 ? "accepted" : Drop.BAD_MAC1.name();
    }

    /**
     * Message 3 at the initiator, whose generator has sent the kept initiation. The receiver index only routes the
     * reply to the peer (the device matched it already); the nonce and sealed cookie are what is checked.
     */
    private static String cookieReply(byte[] m) {
        CookieGenerator sender = new CookieGenerator(RESPONDER.publicKey());
        sender.addMacs(valid.initiation.clone(), 0, Message.INITIATION_LEN, NOW);

        long before = allocated();
        Result<CookieGenerator> first = sender.consumeReply(m, 0, NOW);
        Result<CookieGenerator> again = sender.consumeReply(m, 0, NOW);
        assertBounded(before);

        boolean authentic = same(m, valid.cookieReply, Message.COOKIE_REPLY_NONCE, Message.COOKIE_REPLY_LEN);
        assertDecided(first, authentic, "cookie reply");
        assertEquals(first.isOk() ? Drop.NO_COOKIE_REQUESTED : Drop.DECRYPT_FAILED, Peers.reason(again),
                "a reply is taken once");
        return first.isOk() ? "accepted" : Peers.reason(first).name();
    }

    /**
     * Message 4: the receiver index looked up, the message opened. The same bytes addressed to our index are opened
     * too, so the fuzzer reaches the AEAD with any content. Accepted only if sealing the plaintext again under the
     * sender's key and the message's counter gives the same bytes: only our peer could have made it.
     */
    private static String transport(byte[] m) {
        Peers.Keys keys = Peers.keypairs(TRANSPORT_SEED, INITIATOR_INDEX, valid.transportIndex);
        IndexTable<Keypair> indices = indexTable(keys.responder());
        byte[] asSent = m.clone();
        byte[] addressed = m.clone();
        Message.putInt(addressed, Message.TRANSPORT_RECEIVER, valid.transportIndex);
        Keypair fresh = Peers.keypairs(TRANSPORT_SEED, INITIATOR_INDEX, valid.transportIndex).responder();

        long before = allocated();
        Keypair receiver = indices.get(Message.getInt(m, Message.TRANSPORT_RECEIVER));
        int n = receiver == null ? Drop.UNKNOWN_INDEX.code() : receiver.open(asSent, 0, asSent.length);
        int replayed = receiver == null ? Drop.UNKNOWN_INDEX.code() : receiver.open(m.clone(), 0, m.length);
        int opened = fresh.open(addressed, 0, addressed.length);
        assertBounded(before);

        assertEquals(receiver == null, Message.getInt(m, Message.TRANSPORT_RECEIVER) != valid.transportIndex);
        for (int result : new int[] {n, opened}) {
            if (result >= 0) {
                assertEquals(m.length - Message.TRANSPORT_MIN_LEN, result);
            }
        }
        if (opened >= 0) {
            assertResealsTo(keys.initiator(), addressed, opened, m);
        }
        if (n >= 0) {
            assertEquals(Drop.REPLAYED_COUNTER.code(), replayed, "the same message opened twice");
        }
        return n >= 0 ? "accepted" : Drop.ofCode(n).name();
    }

    /** The plaintext opened in place in buf, sealed again by sender under its counter, must give original back. */
    private static void assertResealsTo(Keypair sender, byte[] buf, int n, byte[] original) {
        long counter = Message.getLong(buf, Message.TRANSPORT_COUNTER);
        byte[] again = new byte[original.length];
        System.arraycopy(buf, Message.TRANSPORT_HEADER_LEN, again, Message.TRANSPORT_HEADER_LEN, n);
        // An mtu of exactly n adds no padding: the opened plaintext carries the sender's padding already.
        assertEquals(original.length, sender.seal(again, 0, n, n, counter));
        Message.putInt(again, Message.TRANSPORT_RECEIVER, Message.getInt(original, Message.TRANSPORT_RECEIVER));
        assertArrayEquals(original, again, "accepted a transport message our peer did not seal");
    }

    /** A result accepts exactly when authentic, and a drop names an unauthenticated-input reason. */
    private static void assertDecided(Result<?> r, boolean authentic, String what) {
        if (authentic) {
            assertTrue(r.isOk(), () -> what + " made by our peer was dropped: " + Peers.reason(r));
        } else {
            assertFalse(r.isOk(), () -> what + " accepted though our peer did not make it");
            Drop why = Peers.reason(r);
            assertTrue(HANDSHAKE_DROPS.contains(why) || why == Drop.NO_COOKIE_REQUESTED, () -> what + ": " + why);
        }
    }

    // ---- fixture ----

    /** A fresh initiator handshake after sending the kept initiation (its mac-less body into out). */
    private static Handshake awaitingResponse(byte[] out) {
        Handshake h = new Handshake(INITIATOR, RESPONDER.publicKey());
        h.setPresharedKey(PSK);
        assertTrue(h.createInitiation(out, 0, INITIATOR_INDEX, INITIATOR_EPHEMERAL, TIMESTAMP));
        return h;
    }

    /** A fresh handshake of the responder's with the initiator: no timestamp seen yet. */
    private static Handshake responderHandshake() {
        Handshake h = new Handshake(RESPONDER, INITIATOR.publicKey());
        h.setPresharedKey(PSK);
        return h;
    }

    /** A seeded index table holding owner (if any) at the same index every run. */
    private static IndexTable<Keypair> indexTable(Keypair owner) {
        IndexTable<Keypair> t = new IndexTable<>(new SeededRandom(6));
        if (owner != null) {
            t.allocate(owner);
        }
        return t;
    }

    private static boolean same(byte[] a, byte[] b, int from, int to) {
        return a.length == b.length && Arrays.equals(a, from, to, b, from, to);
    }

    private static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    private static void assertBounded(long before) {
        long spent = allocated() - before;
        if (warm && spent > ALLOCATION_BOUND) {
            fail("one datagram allocated " + spent + " bytes");
        }
    }

    /** Randomness that is the same every run, so indices and nonces in the kept inputs stay valid. */
    static final class SeededRandom extends SecureRandom {
        private final Random random;

        SeededRandom(long seed) {
            this.random = new Random(seed);
        }

        @Override
        public void nextBytes(byte[] bytes) {
            random.nextBytes(bytes);
        }

        @Override
        public int nextInt() {
            return random.nextInt();
        }
    }
}
