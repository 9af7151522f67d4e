package jwg.tunnel;

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
 * it on a low-priority thread once it is ready; the CDS training runs one round of it. Poly1305's vector lanes are
 * warmed up later, once traffic wants them ({@link #vectorLanesOnceBusy}).
 */
final class Warmup {
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

    private static Secret randomKey(SecureRandom random) {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return Secret.of(k);
    }
}
