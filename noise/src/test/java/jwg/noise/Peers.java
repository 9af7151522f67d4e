package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

/**
 * Test fixture: two peers that know each other, "initiator" and "responder" (the roles of the first exchange; either
 * may initiate later), with their identities, handshakes, MAC stamps and checkers, and a full exchange driven through
 * the receive checks a device makes (classify, mac1, lookup, consume).
 */
final class Peers {
    /** Monotonic clock (System.nanoTime-like) at the start of a test. */
    static final long NOW = 5_000_000_000_000L;
    /** Wall clock (epoch nanoseconds) at the start of a test: 2023-11-14T22:13:20Z. */
    static final long EPOCH = 1_700_000_000_000_000_000L;
    static final long SECOND = 1_000_000_000L;
    /** The UDP source (192.0.2.1:51820) handshake messages come from, as cookie input. */
    static final byte[] SOURCE = CookieChecker.source(new byte[] {(byte) 192, 0, 2, 1}, 51820);

    final SecureRandom random = new SecureRandom();
    final Secret psk;
    final StaticIdentity initiatorId;
    final StaticIdentity responderId;
    final Key initiatorPub;
    final Key responderPub;
    /** The initiator's handshake with the responder, and the responder's with the initiator. */
    final Handshake initiator;
    final Handshake responder;
    /** Stamps mac1/mac2 on the initiator's messages (keyed by the responder's public key), and the other way. */
    final CookieGenerator toResponder;
    final CookieGenerator toInitiator;
    final CookieChecker responderChecker;
    final CookieChecker initiatorChecker;
    /** Advances one second per {@link #exchange}, so each exchange has a later timestamp and no flood. */
    private long elapsed;

    Peers() {
        this(Secret.zero());
    }

    Peers(Secret psk) {
        this(identity(1), identity(2), psk);
    }

    Peers(StaticIdentity initiatorId, StaticIdentity responderId, Secret psk) {
        this.psk = psk;
        this.initiatorId = initiatorId;
        this.responderId = responderId;
        this.initiatorPub = initiatorId.publicKey();
        this.responderPub = responderId.publicKey();
        this.initiator = newInitiatorHandshake();
        this.responder = newResponderHandshake();
        this.toResponder = new CookieGenerator(responderPub);
        this.toInitiator = new CookieGenerator(initiatorPub);
        this.responderChecker = new CookieChecker(responderId, random);
        this.initiatorChecker = new CookieChecker(initiatorId, random);
    }

    /** A reproducible identity: the private key is 32 bytes of new Random(seed). */
    static StaticIdentity identity(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return new StaticIdentity(Secret.of(k));
    }

    /** A handshake of the initiator's with the responder, fresh (no replay state), with this fixture's psk. */
    Handshake newInitiatorHandshake() {
        Handshake h = new Handshake(initiatorId, responderPub);
        h.setPresharedKey(psk);
        return h;
    }

    /** A handshake of the responder's with the initiator, fresh (no replay state), with this fixture's psk. */
    Handshake newResponderHandshake() {
        Handshake h = new Handshake(responderId, initiatorPub);
        h.setPresharedKey(psk);
        return h;
    }

    /** The responder's peer lookup: the initiator's public key names {@link #responder}. */
    Function<Key, Handshake> responderLookup() {
        return k -> k.equals(initiatorPub) ? responder : null;
    }

    /** The initiator's peer lookup, for when the responder initiates. */
    Function<Key, Handshake> initiatorLookup() {
        return k -> k.equals(responderPub) ? initiator : null;
    }

    /** Message 1 from {@link #initiator}, mac1 stamped, timestamped at wall-clock epochNanos. */
    byte[] initiation(int senderIndex, long epochNanos) {
        byte[] msg = new byte[Message.INITIATION_LEN];
        assertTrue(initiator.createInitiation(msg, 0, senderIndex, random, epochNanos));
        toResponder.addMacs(msg, 0, msg.length, NOW);
        return msg;
    }

    /** The responder's consumption of message 1, looking the sender up with {@link #responderLookup}. */
    Result<Handshake> consumeInitiation(byte[] msg, long nowNanos) {
        return Handshake.consumeInitiation(responderId, msg, 0, responderLookup(), nowNanos);
    }

    /** Message 2 from {@link #responder}, mac1 stamped; it must have consumed an initiation. */
    byte[] response(int senderIndex) {
        byte[] msg = new byte[Message.RESPONSE_LEN];
        assertTrue(responder.createResponse(msg, 0, senderIndex, random));
        toInitiator.addMacs(msg, 0, msg.length, NOW);
        return msg;
    }

    record Keys(Keypair initiator, Keypair responder) {}

    /** A full exchange, initiator to responder, with the receive checks a device makes; both sides' keypairs. */
    Keys exchange(int initiatorIndex, int responderIndex) {
        elapsed += SECOND;
        long now = NOW + elapsed;
        byte[] init = initiation(initiatorIndex, EPOCH + elapsed);
        assertEquals(Message.INITIATION, Message.classify(init, 0, init.length));
        assertTrue(responderChecker.checkMac1(init, 0, init.length));
        assertSame(responder, consumeInitiation(init, now).valueOrNull());

        byte[] resp = response(responderIndex);
        assertEquals(Message.RESPONSE, Message.classify(resp, 0, resp.length));
        assertEquals(initiator.localIndex(), Message.getInt(resp, Message.RESPONSE_RECEIVER));
        assertTrue(initiatorChecker.checkMac1(resp, 0, resp.length));
        assertSame(initiator, initiator.consumeResponse(resp, 0).valueOrNull());

        Keypair initiatorKeys = initiator.deriveKeypair(now);
        Keypair responderKeys = responder.deriveKeypair(now);
        assertNotNull(initiatorKeys);
        assertNotNull(responderKeys);
        return new Keys(initiatorKeys, responderKeys);
    }

    /**
     * Two keypairs facing each other, as a handshake would derive them, but with seeded keys and the given indices:
     * what the initiator sends the responder opens, and the other way.
     */
    static Keys keypairs(long seed, int initiatorIndex, int responderIndex) {
        byte[] k1 = bytes(seed, 32);
        byte[] k2 = bytes(seed + 1, 32);
        return new Keys(new Keypair(k1, k2, true, NOW, initiatorIndex, responderIndex),
                new Keypair(k2, k1, false, NOW, responderIndex, initiatorIndex));
    }

    /** A transport message sealed by keys carrying plain (padded per mtu). */
    static byte[] seal(Keypair keys, byte[] plain, int mtu) {
        byte[] buf = new byte[Message.TRANSPORT_HEADER_LEN + Keypair.paddedLength(plain.length, mtu) + Aead.TAG_LEN];
        System.arraycopy(plain, 0, buf, Message.TRANSPORT_HEADER_LEN, plain.length);
        assertEquals(buf.length, keys.seal(buf, 0, plain.length, mtu));
        return buf;
    }

    /** Opens a copy of the transport message msg with keys, which must accept it; the padded plaintext. */
    static byte[] open(Keypair keys, byte[] msg) {
        byte[] buf = msg.clone();
        int n = keys.open(buf, 0, buf.length);
        assertTrue(n >= 0, () -> "open failed: " + Drop.ofCode(n));
        return Arrays.copyOfRange(buf, Message.TRANSPORT_HEADER_LEN, Message.TRANSPORT_HEADER_LEN + n);
    }

    /** Keypair.open's result for a copy of msg (the original is left as it was). */
    static int tryOpen(Keypair keys, byte[] msg) {
        byte[] buf = msg.clone();
        return keys.open(buf, 0, buf.length);
    }

    /** Why a consume step dropped its message, or null if it was accepted. */
    static Drop reason(Result<?> result) {
        return result instanceof Result.Dropped<?> dropped ? dropped.reason() : null;
    }

    /** length bytes of seeded pseudo-random data. */
    static byte[] bytes(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
