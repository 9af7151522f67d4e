package jwg.bench;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import jwg.noise.CookieChecker;
import jwg.noise.CookieGenerator;
import jwg.noise.Dh;
import jwg.noise.Handshake;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Result;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import jwg.noise.Tai64n;

/**
 * Shared set-up for the benchmarks (not a benchmark): two peers with fixed, seeded keys, and a way to get a pair of
 * transport keypairs the only way the public API allows, through a real handshake ({@code Keypair}'s constructor is
 * package-private).
 */
final class Fixtures {
    /** Arbitrary wall-clock origin (2023-11-14T22:13:20Z) for TAI64N timestamps. */
    static final long EPOCH_BASE_NANOS = 1_700_000_000_000_000_000L;

    private Fixtures() {}

    /** A deterministic generator, so keys and ephemerals are the same in every run. */
    static SecureRandom seededRandom(long seed) {
        try {
            SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
            r.setSeed(seed);
            return r;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static StaticIdentity identity(SecureRandom random) {
        return new StaticIdentity(Secret.of(Dh.generatePrivate(random)));
    }

    /** Sender (initiator) and receiver (responder) keypairs of one completed handshake: a.seal → b.open works. */
    record KeypairPair(Keypair initiator, Keypair responder) {}

    static KeypairPair handshake(long seed) {
        SecureRandom random = seededRandom(seed);
        StaticIdentity initiatorId = identity(random);
        StaticIdentity responderId = identity(random);
        Handshake initiator = new Handshake(initiatorId, responderId.publicKey());
        Handshake responder = new Handshake(responderId, initiatorId.publicKey());
        byte[] init = new byte[Message.INITIATION_LEN];
        check(initiator.createInitiation(init, 0, 1, Dh.generatePrivate(random),
                Tai64n.ofEpochNanos(EPOCH_BASE_NANOS)), "createInitiation");
        new CookieGenerator(responderId.publicKey()).addMacs(init, 0, init.length, 0);
        check(new CookieChecker(responderId, random).checkMac1(init, 0, init.length), "mac1 of initiation");
        Result<Handshake> consumed = Handshake.consumeInitiation(responderId, init, 0,
                k -> k.equals(initiatorId.publicKey()) ? responder : null, 0);
        check(consumed.valueOrNull() == responder, "consumeInitiation " + consumed);
        byte[] resp = new byte[Message.RESPONSE_LEN];
        check(responder.createResponse(resp, 0, 2, Dh.generatePrivate(random)), "createResponse");
        new CookieGenerator(initiatorId.publicKey()).addMacs(resp, 0, resp.length, 0);
        check(initiator.consumeResponse(resp, 0).isOk(), "consumeResponse");
        KeypairPair pair = new KeypairPair(initiator.deriveKeypair(0), responder.deriveKeypair(0));
        check(pair.initiator() != null && pair.responder() != null, "deriveKeypair");
        return pair;
    }

    /** Proves two keypairs belong together: one message each way. Burns counter 0 of each direction. */
    static void checkInterop(Keypair a, Keypair b) {
        byte[] buf = new byte[16 + 32 + 16];
        Arrays.fill(buf, 16, 16 + 32, (byte) 0x5a);
        int len = a.seal(buf, 0, 32, 0);
        check(b.open(buf, 0, len) == 32 && buf[16] == 0x5a, "a.seal -> b.open");
        len = b.seal(buf, 0, 32, 0);
        check(a.open(buf, 0, len) == 32 && buf[16] == 0x5a, "b.seal -> a.open");
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark fixture broken: " + what + " failed");
        }
    }
}
