package jwg.bench;

import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import jwg.noise.CookieChecker;
import jwg.noise.CookieGenerator;
import jwg.noise.Dh;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Result;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import jwg.noise.Tai64n;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cost of the handshake, both sides on one thread.
 *
 * <p>{@link #fullHandshake}: one complete exchange per op, everything a device does to a handshake message except I/O
 * and peer lookup by index: initiator {@code createInitiation} + {@code addMacs}; responder {@code checkMac1} +
 * {@code consumeInitiation}, {@code createResponse} + {@code addMacs}; initiator {@code checkMac1} +
 * {@code consumeResponse}; both {@code deriveKeypair}. That is eight X25519 scalar multiplications (two of them
 * fixed-base, for the ephemeral public keys; DH(S_i, S_r) is precomputed per peer), 16 KDF calls (42 HMAC-BLAKE2s),
 * 16 BLAKE2s hashes, 4 mac1 MACs and six ChaCha20-Poly1305 operations; the X25519s dominate. The same two {@link Handshake} objects are reused op after op,
 * as a long-lived peer pair would be (deriveKeypair returns them to ZEROED and keeps the replay timestamp).
 *
 * <p>Choices, so the figure is protocol cost only:
 * <ul>
 *   <li>Ephemeral private keys come from a pool of {@value #POOL} per side generated in {@link #setUp} with a seeded
 *       SecureRandom, through the {@code byte[] ephemeralPrivate} overloads: no SecureRandom in the measured path.
 *       A real device adds one {@code nextBytes(32)} per side per handshake (tens of ns for DRBG, more for
 *       NativePRNG), small next to the X25519 work.</li>
 *   <li>Time is a fake clock advanced 1 s per op and fed to both epochNanos (the TAI64N timestamp, made with
 *       {@link Tai64n#ofEpochNanos}, which is in the path, as it is inside the SecureRandom overload) and nowNanos
 *       (the responder's 20 ms flood limit), so every initiation is fresh and accepted.</li>
 *   <li>Each step's result is checked; a rejected message throws rather than silently measuring a short cut.</li>
 * </ul>
 *
 * <p>{@link #consumeInitiationWithBadMac1}: what one garbage 148-byte initiation (right type byte, random body and
 * mac1) costs the responder: {@code checkMac1} fails (one keyed BLAKE2s over 116 bytes and a 16-byte compare), so
 * {@code consumeInitiation} is never called. This is the per-packet cost of an unauthenticated flood.
 *
 * <p>{@link #consumeInitiationWithGoodMac1Garbage}: the same garbage but with a valid mac1, which anyone who knows
 * the responder's public key can compute: {@code checkMac1} passes, {@code consumeInitiation} does one X25519 and
 * fails to open the sealed static key. This is what a flood costs until the device demands mac2 (cookies).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
        "--add-exports", "java.base/sun.security.util.math=ALL-UNNAMED"})
public class HandshakeBench {
    static final int POOL = 1024;
    private static final long SECOND = 1_000_000_000L;

    private StaticIdentity initiatorId;
    private StaticIdentity responderId;
    private Handshake initiator;
    private Handshake responder;
    private CookieGenerator initiatorMacs;
    private CookieGenerator responderMacs;
    private CookieChecker initiatorChecker;
    private CookieChecker responderChecker;
    private Function<Key, Handshake> responderPeers;
    private byte[][] initiatorEphemerals;
    private byte[][] responderEphemerals;
    private final byte[] initiation = new byte[Message.INITIATION_LEN];
    private final byte[] response = new byte[Message.RESPONSE_LEN];
    private byte[] garbageBadMac1;
    private byte[] garbageGoodMac1;
    private Keypair initiatorKeys;
    private Keypair responderKeys;
    private long clock;
    private int op;

    @Setup
    public void setUp() {
        SecureRandom random = Fixtures.seededRandom(0x1A2B3C4DL);
        initiatorId = Fixtures.identity(random);
        responderId = Fixtures.identity(random);
        Key initiatorPub = initiatorId.publicKey();
        Key responderPub = responderId.publicKey();
        initiator = new Handshake(initiatorId, responderPub);
        responder = new Handshake(responderId, initiatorPub);
        Secret psk = Secret.of(Dh.generatePrivate(random));
        initiator.setPresharedKey(psk);
        responder.setPresharedKey(psk);
        initiatorMacs = new CookieGenerator(responderPub);
        responderMacs = new CookieGenerator(initiatorPub);
        initiatorChecker = new CookieChecker(initiatorId, random);
        responderChecker = new CookieChecker(responderId, random);
        responderPeers = k -> k.equals(initiatorPub) ? responder : null;

        initiatorEphemerals = new byte[POOL][];
        responderEphemerals = new byte[POOL][];
        for (int i = 0; i < POOL; i++) {
            initiatorEphemerals[i] = Dh.generatePrivate(random);
            responderEphemerals[i] = Dh.generatePrivate(random);
        }

        garbageBadMac1 = new byte[Message.INITIATION_LEN];
        random.nextBytes(garbageBadMac1);
        Message.writeHeader(garbageBadMac1, 0, Message.INITIATION);
        Fixtures.check(Message.classify(garbageBadMac1, 0, garbageBadMac1.length) == Message.INITIATION, "classify");
        Fixtures.check(!responderChecker.checkMac1(garbageBadMac1, 0, garbageBadMac1.length), "bad mac1 is bad");

        garbageGoodMac1 = garbageBadMac1.clone();
        new CookieGenerator(responderPub).addMacs(garbageGoodMac1, 0, garbageGoodMac1.length, 0);
        Fixtures.check(responderChecker.checkMac1(garbageGoodMac1, 0, garbageGoodMac1.length), "good mac1 is good");
        Fixtures.check(!Handshake.consumeInitiation(responderId, garbageGoodMac1, 0, responderPeers, 0).isOk(),
                "garbage rejected");

        // One handshake outside the measurement, proving the keypairs it yields work together.
        handshake();
        Fixtures.checkInterop(initiatorKeys, responderKeys);
    }

    /** Runs one handshake; leaves its keypairs in initiatorKeys and responderKeys. */
    private void handshake() {
        clock += SECOND;
        long now = clock;
        int i = op++;
        byte[] eI = initiatorEphemerals[i & (POOL - 1)];
        byte[] eR = responderEphemerals[i & (POOL - 1)];

        // Initiator: message 1.
        if (!initiator.createInitiation(initiation, 0, 2 * i, eI, Tai64n.ofEpochNanos(Fixtures.EPOCH_BASE_NANOS + now))) {
            throw new IllegalStateException("createInitiation");
        }
        initiatorMacs.addMacs(initiation, 0, Message.INITIATION_LEN, now);

        // Responder: check, consume, answer with message 2.
        if (!responderChecker.checkMac1(initiation, 0, Message.INITIATION_LEN)) {
            throw new IllegalStateException("mac1 of initiation");
        }
        Result<Handshake> consumed = Handshake.consumeInitiation(responderId, initiation, 0, responderPeers, now);
        if (consumed.valueOrNull() != responder) {
            throw new IllegalStateException("consumeInitiation: " + consumed);
        }
        if (!responder.createResponse(response, 0, 2 * i + 1, eR)) {
            throw new IllegalStateException("createResponse");
        }
        responderMacs.addMacs(response, 0, Message.RESPONSE_LEN, now);

        // Initiator: check, consume.
        if (!initiatorChecker.checkMac1(response, 0, Message.RESPONSE_LEN)) {
            throw new IllegalStateException("mac1 of response");
        }
        Result<Handshake> answered = initiator.consumeResponse(response, 0);
        if (!answered.isOk()) {
            throw new IllegalStateException("consumeResponse: " + answered);
        }

        initiatorKeys = initiator.deriveKeypair(now);
        responderKeys = responder.deriveKeypair(now);
        if (initiatorKeys == null || responderKeys == null) {
            throw new IllegalStateException("deriveKeypair");
        }
    }

    /** One complete handshake (both sides) per op; ops/s = handshakes/s on one core. */
    @Benchmark
    public void fullHandshake(Blackhole bh) {
        handshake();
        bh.consume(initiatorKeys);
        bh.consume(responderKeys);
    }

    /** Responder's cost to drop one garbage initiation at the mac1 check (no DH): ops/s = garbage packets/s. */
    @Benchmark
    public boolean consumeInitiationWithBadMac1() {
        if (responderChecker.checkMac1(garbageBadMac1, 0, Message.INITIATION_LEN)) {
            throw new IllegalStateException("garbage passed mac1");
        }
        return false;
    }

    /** Responder's cost to drop one garbage initiation that carries a valid mac1: mac1 + one X25519 + failed open. */
    @Benchmark
    public Result<Handshake> consumeInitiationWithGoodMac1Garbage() {
        if (!responderChecker.checkMac1(garbageGoodMac1, 0, Message.INITIATION_LEN)) {
            throw new IllegalStateException("mac1");
        }
        Result<Handshake> r = Handshake.consumeInitiation(responderId, garbageGoodMac1, 0, responderPeers, clock);
        if (r.isOk()) {
            throw new IllegalStateException("garbage accepted");
        }
        return r;
    }
}
