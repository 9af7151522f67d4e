package jwg.tunnel;

import java.io.BufferedReader;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.SecureRandom;
import jwg.noise.CookieChecker;
import jwg.noise.CookieGenerator;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.StaticIdentity;

/**
 * {@code jwg --cds-training}: loads and initializes what a daemon start-up and its first handshake load, without a
 * TUN device or any lasting effect, so that bin/jwg can record a class-data-sharing archive of it once per build.
 * A JVM started from that archive reaches the UAPI socket several times sooner (see the README's figures).
 */
final class CdsTraining {
    private CdsTraining() {}

    static int run() throws Exception {
        Class.forName("jwg.tun.Tun");
        Log log = new Log(Log.Level.SILENT, "cds", System.err);
        NettyLog.routeTo(log);
        Device device = new Device("cds", null, log, () -> { });
        try {
            device.bind(0, 0);
            Uapi uapi = new Uapi(device);
            SecureRandom random = new SecureRandom();
            byte[] a = new byte[32];
            byte[] b = new byte[32];
            random.nextBytes(a);
            random.nextBytes(b);
            StaticIdentity ia = new StaticIdentity(Key.of(a));
            StaticIdentity ib = new StaticIdentity(Key.of(b));
            uapi.apply(Uapi.parse(new BufferedReader(new StringReader("private_key=" + Key.of(a).toHex()
                    + "\npublic_key=" + ib.publicKey().toHex() + "\nendpoint=127.0.0.1:9\nallowed_ip=10.0.0.0/8\n"
                    + "allowed_ip=fd00::/8\npersistent_keepalive_interval=0\n\n"))));
            uapi.get(new StringWriter());
            Handshake initiator = new Handshake(ia, ib.publicKey());
            Handshake responder = new Handshake(ib, ia.publicKey());
            byte[] init = new byte[Message.INITIATION_LEN];
            initiator.createInitiation(init, 0, 1, random, Device.epochNanos());
            new CookieGenerator(ib.publicKey()).addMacs(init, 0, init.length, System.nanoTime());
            new CookieChecker(ib, random).checkMac1(init, 0, init.length);
            Handshake.consumeInitiation(ib, init, 0, k -> responder, System.nanoTime());
            byte[] resp = new byte[Message.RESPONSE_LEN];
            responder.createResponse(resp, 0, 2, random);
            initiator.consumeResponse(resp, 0);
            Keypair send = initiator.deriveKeypair(System.nanoTime());
            Keypair receive = responder.deriveKeypair(System.nanoTime());
            byte[] buf = new byte[64];
            receive.open(buf, 0, send.seal(buf, 0, 0, 0));
        } finally {
            device.close();
        }
        return 0;
    }
}
