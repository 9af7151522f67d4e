package jwg.tunnel;

import java.lang.ref.WeakReference;
import java.security.SecureRandom;
import jwg.noise.ChaCha20Poly1305;
import jwg.noise.CookieChecker;
import jwg.noise.CookieGenerator;
import jwg.noise.Handshake;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;

/**
 * Runs the protocol's hot code (handshakes, sealing and opening) with throw-away keys, touching no device state, so
 * the JIT has compiled it before the first real packet: a cold JVM took ~570 ms from the first packet to its answer
 * and kept the ping RTT at 3-5 ms for its first seconds (bench/compare), against ~1 ms once compiled. The daemon runs
 * it on a low-priority thread once it is ready; the build's training run (for bin/jwg's start-up cache) runs one round
 * of it. Poly1305's vector lanes are warmed up later, once traffic wants them ({@link #vectorLanesOnceBusy}).
 */
final class Warmup {
    private static final int FILLER_BYTES = 16 * 1024;

    /** Where {@link #collectYoungGeneration} drops its arrays: escape analysis would remove arrays that go nowhere. */
    private static volatile Object sink;

    private Warmup() {}

    static void run(int handshakes, int packets) {
        SecureRandom random = new SecureRandom();
        Keypair send = null;
        Keypair receive = null;
        for (int i = 0; i < handshakes; i++) {
            StaticIdentity ia = new StaticIdentity(randomKey(random));
            StaticIdentity ib = new StaticIdentity(randomKey(random));
            Handshake initiator = new Handshake(ia, ib.publicKey());
            Handshake responder = new Handshake(ib, ia.publicKey());
            byte[] init = new byte[Message.INITIATION_LEN];
            initiator.createInitiation(init, 0, 1, random, System.currentTimeMillis() * 1_000_000L);
            new CookieGenerator(ib.publicKey()).addMacs(init, 0, init.length, System.nanoTime());
            new CookieChecker(ib, random).checkMac1(init, 0, init.length);
            Handshake.consumeInitiation(ib, init, 0, k -> responder, System.nanoTime());
            byte[] resp = new byte[Message.RESPONSE_LEN];
            responder.createResponse(resp, 0, 2, random);
            initiator.consumeResponse(resp, 0);
            send = initiator.deriveKeypair(System.nanoTime());
            receive = responder.deriveKeypair(System.nanoTime());
        }
        if (send == null) {
            return;
        }
        int mtu = Protocol.DEFAULT_MTU;
        byte[] buf = new byte[Keypair.sealedLength(mtu, mtu)];
        for (int i = 0; i < packets; i++) {
            int len = (i & 1) == 0 ? mtu : 64;
            receive.open(buf, 0, send.seal(buf, 0, len, mtu));
        }
    }

    /**
     * Waits, looking once a second, until the AEAD has carried enough traffic to want Poly1305's vector lanes
     * ({@link ChaCha20Poly1305#vectorLanesWanted}), then warms them up; returns at once where there are none. Not at
     * start-up: until C2 has compiled them the lanes box every vector, and their warm-up's garbage and compilations,
     * run while the daemon started, delayed its first packet from 47 to 154 ms and left it at 106 MiB idle instead of
     * 69 (bench/compare, same run). A daemon that never moves bulk data never pays for them.
     */
    static void vectorLanesOnceBusy() throws InterruptedException {
        if (!ChaCha20Poly1305.vectorLanesPossible()) {
            return;
        }
        while (!ChaCha20Poly1305.vectorLanesWanted()) {
            Thread.sleep(1000);
        }
        ChaCha20Poly1305.warmUpVectorLanes();
    }

    /**
     * Allocates throw-away arrays until one young collection has run, at most {@code maxBytes} of them; true if one
     * ran. The warm-up leaves the young generation nearly full of its garbage, so the first real traffic's few
     * allocations set off the collection that frees it: 4-10.5 ms at the start of bench/soak's traffic on 2 cores (its
     * rule is 10 ms), where the same collection at the warm-up's end pauses an idle device. A young collection, not
     * {@code System.gc()}: what is live has already moved out of the young generation, and a full one paused 20-74 ms
     * for nothing. The sign is a weak reference to a young object, which any collection clears.
     */
    static boolean collectYoungGeneration(long maxBytes) {
        WeakReference<Object> canary = new WeakReference<>(new Object());
        for (long filled = 0; filled < maxBytes && !canary.refersTo(null); filled += FILLER_BYTES) {
            sink = new byte[FILLER_BYTES];
        }
        sink = null;
        return canary.refersTo(null);
    }

    private static Secret randomKey(SecureRandom random) {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return Secret.of(k);
    }
}
