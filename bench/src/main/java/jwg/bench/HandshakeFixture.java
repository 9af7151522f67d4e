package jwg.bench;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.stream.IntStream;
import jwg.noise.CookieGenerator;
import jwg.noise.Dh;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Message;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import jwg.tunnel.Json;

/**
 * What the responder-capacity figures need, made once per harness run so that no measurement pays for it: N peers
 * with real key pairs, as a {@code wg addconf} file for the responder (distinct public keys, one /32 of
 * 10.160.0.0/11 each), and a pool of valid handshake initiations from them to the responder's public key.
 *
 * <p>The pool is built so a responder accepts every initiation in it, in order, during one daemon's life (§5.4.2
 * and the flood check of the kernel and wireguard-go): initiation k comes from peer k mod N, so a peer's next
 * initiation is N initiations later (at 10 000 handshakes/s and N = 1000 that is 100 ms, well past the 20 ms flood
 * check); its timestamp is the run's start plus k div N seconds, so each peer's timestamps only grow; its sender index
 * is k, so a response names the initiation it answers. mac1 is valid, mac2 zero (no cookie). Every fresh responder
 * can be flooded with the same pool, so the rounds of one run send identical bytes.
 *
 * <p>Usage: {@code HandshakeFixture RESPONDER_PUBLIC_KEY OUT_DIR [--peers 10000] [--initiations 72000]}; writes
 * OUT_DIR/peers.conf and OUT_DIR/initiations.bin (148-byte records).
 */
public final class HandshakeFixture {
    private HandshakeFixture() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv,
                "HandshakeFixture RESPONDER_PUBLIC_KEY OUT_DIR [--peers 10000] [--initiations 72000]");
        Key responder = Key.fromBase64(args.positional(0));
        Path out = Path.of(args.positional(1));
        int peers = args.integer("peers", 10_000);
        int count = args.integer("initiations", 72_000);
        if (peers < 1 || peers > 1 << 20) {
            args.fail("--peers must be 1..2^20");
        }
        long t0 = System.nanoTime();
        Handshake[] handshakes = peers(responder, peers, out.resolve("peers.conf"));
        long t1 = System.nanoTime();
        Files.write(out.resolve("initiations.bin"), initiations(responder, handshakes, count));
        long t2 = System.nanoTime();
        System.out.println(new Json().put("peers", peers).put("initiations", count)
                .put("peers_ms", (t1 - t0) / 1e6).put("initiations_ms", (t2 - t1) / 1e6));
    }

    /** Makes the peers, writes their wg config, and returns each one's handshake with the responder. */
    private static Handshake[] peers(Key responder, int n, Path conf) throws IOException {
        SecureRandom random = new SecureRandom();
        Secret[] privates = new Secret[n];
        for (int i = 0; i < n; i++) {
            privates[i] = Secret.of(Dh.generatePrivate(random));
        }
        // One X25519 for the public key and one for DH(S_i, S_r) per peer: in parallel, ~1 s for 10 000 here.
        StaticIdentity[] ids = IntStream.range(0, n).parallel().mapToObj(i -> new StaticIdentity(privates[i]))
                .toArray(StaticIdentity[]::new);
        Handshake[] hs = IntStream.range(0, n).parallel().mapToObj(i -> new Handshake(ids[i], responder))
                .toArray(Handshake[]::new);
        try (Writer w = Files.newBufferedWriter(conf, StandardCharsets.US_ASCII)) {
            for (int i = 0; i < n; i++) {
                w.write("[Peer]\nPublicKey = " + ids[i].publicKey().toBase64() + "\nAllowedIPs = "
                        + allowedIp(i) + "\n\n");
            }
        }
        return hs;
    }

    /** Peer i's /32 in 10.160.0.0/11: far from the harness's own 10.97/16 and 10.98/16. */
    static String allowedIp(int i) {
        int a = (160 << 16) + i;
        return "10." + (a >>> 16) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff) + "/32";
    }

    private static byte[] initiations(Key responder, Handshake[] peers, int count) {
        byte[] pool = new byte[count * Message.INITIATION_LEN];
        long baseSeconds = System.currentTimeMillis() / 1000;
        ThreadLocal<CookieGenerator> macs = ThreadLocal.withInitial(() -> new CookieGenerator(responder));
        ThreadLocal<SecureRandom> randoms = ThreadLocal.withInitial(SecureRandom::new);
        IntStream.range(0, count).parallel().forEach(k -> {
            int off = k * Message.INITIATION_LEN;
            long epochNanos = (baseSeconds + k / peers.length) * 1_000_000_000L;
            if (!peers[k % peers.length].createInitiation(pool, off, k, randoms.get(), epochNanos)) {
                throw new IllegalStateException("peer " + k % peers.length + " cannot handshake");
            }
            macs.get().addMacs(pool, off, Message.INITIATION_LEN, 0);
        });
        return pool;
    }
}
