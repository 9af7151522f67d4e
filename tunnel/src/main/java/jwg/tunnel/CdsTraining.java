package jwg.tunnel;

import java.io.StringWriter;
import java.security.SecureRandom;
import jwg.noise.Key;
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
            Uapi uapi = new Uapi(device, null);
            SecureRandom random = new SecureRandom();
            byte[] a = new byte[32];
            byte[] b = new byte[32];
            random.nextBytes(a);
            random.nextBytes(b);
            String peer = new StaticIdentity(Key.of(b)).publicKey().toHex();
            uapi.apply(Uapi.parse(UapiReader.of("private_key=" + Key.of(a).toHex()
                    + "\npublic_key=" + peer + "\nendpoint=127.0.0.1:9\nallowed_ip=10.0.0.0/8\n"
                    + "allowed_ip=fd00::/8\npersistent_keepalive_interval=0\n\n")));
            uapi.get(new StringWriter());
            Warmup.run(1, 2);
            device.udp().warmUp();
            Thread.sleep(100);
        } finally {
            device.close();
        }
        return 0;
    }
}
