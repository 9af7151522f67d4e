package jwg.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import jwg.noise.Blake2s;
import jwg.noise.Key;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.tunnel.Json;

/**
 * An attacker who knows the responder's public key: handshake initiations that pass mac1 (anyone can compute it) but
 * carry random content, from many sources (every address given, each with {@code --ports} sockets), for {@code
 * --seconds}. Not under load, each one costs the responder its DH work before it fails; under load, a cookie reply.
 * Either way no legitimate peer should suffer: that is what bench/flood measures around this tool.
 *
 * <p>Sends as fast as one thread can, or at {@code --rate} datagrams/s; drains and counts what comes back (cookie
 * replies, anything else). Usage: {@code InitiationStorm HOST:PORT RESPONDER_PUBLIC_KEY --sources A,B,...
 * [--ports 64] [--seconds 60] [--rate 0]}; prints one JSON object.
 */
public final class InitiationStorm {
    private static final int POOL = 4096;

    private InitiationStorm() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "InitiationStorm HOST:PORT RESPONDER_PUBLIC_KEY --sources A,B,... [--ports 64] "
                + "[--seconds 60] [--rate 0]");
        byte[] mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, Key.fromBase64(args.positional(1)).bytes());
        int ports = args.integer("ports", 64);
        long duration = (long) (args.number("seconds", 60) * 1e9);
        double rate = args.number("rate", 0);

        SplittableRandom random = new SplittableRandom(7);
        ByteBuffer[] pool = new ByteBuffer[POOL];
        for (int i = 0; i < POOL; i++) {
            byte[] m = new byte[Message.INITIATION_LEN];
            m[0] = Message.INITIATION;
            for (int j = 4; j < Message.INITIATION_MAC1; j++) {
                m[j] = (byte) random.nextInt();
            }
            Blake2s.mac(mac1Key, m, 0, Message.INITIATION_MAC1, m, Message.INITIATION_MAC1);
            pool[i] = ByteBuffer.wrap(m);
        }
        long[] cookies = {0};
        long[] other = {0};
        try (Spray spray = new Spray(args.address(0), args.text("sources", ""), ports)) {
            if (spray.sockets() == 0) {
                args.fail("--sources names no address");
            }
            spray.run(pool, duration, rate, reply -> {
                if (reply.remaining() == Message.COOKIE_REPLY_LEN && reply.get(0) == Message.COOKIE_REPLY) {
                    cookies[0]++;
                } else {
                    other[0]++;
                }
            });
            System.out.println(new Json().put("sources", spray.sockets()).put("sent", spray.sent())
                    .put("sent_per_s", spray.sent() / spray.seconds()).put("refused_by_socket", spray.refused())
                    .put("cookie_replies_seen", cookies[0]).put("other_replies_seen", other[0])
                    .put("seconds", spray.seconds()));
        }
    }
}
