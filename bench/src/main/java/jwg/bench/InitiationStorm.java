package jwg.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import jwg.noise.Blake2s;
import jwg.noise.Key;
import jwg.noise.Message;
import jwg.noise.Protocol;

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
        InetSocketAddress target = args.address(0);
        byte[] mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, Key.fromBase64(args.positional(1)).bytes());
        int ports = args.integer("ports", 64);
        long duration = (long) (args.number("seconds", 60) * 1e9);
        double rate = args.number("rate", 0);

        SplittableRandom random = new SplittableRandom(7);
        byte[] pool = new byte[POOL * Message.INITIATION_LEN];
        for (int i = 0; i < POOL; i++) {
            int off = i * Message.INITIATION_LEN;
            pool[off] = Message.INITIATION;
            for (int j = 4; j < Message.INITIATION_MAC1; j++) {
                pool[off + j] = (byte) random.nextInt();
            }
            Blake2s.mac(mac1Key, pool, off, Message.INITIATION_MAC1, pool, off + Message.INITIATION_MAC1);
        }

        List<DatagramChannel> sockets = new ArrayList<>();
        for (String source : args.text("sources", "").split(",")) {
            if (source.isBlank()) {
                continue;
            }
            InetAddress address = InetAddress.getByName(source.trim());
            for (int p = 0; p < ports; p++) {
                DatagramChannel ch = DatagramChannel.open();
                ch.bind(new InetSocketAddress(address, 0));
                ch.connect(target);
                ch.configureBlocking(false);
                sockets.add(ch);
            }
        }
        if (sockets.isEmpty()) {
            args.fail("--sources names no address");
        }

        ByteBuffer in = ByteBuffer.allocate(2048);
        long sent = 0;
        long refused = 0;
        long cookies = 0;
        long other = 0;
        long start = System.nanoTime();
        long now = start;
        int s = 0;
        while (now - start < duration) {
            for (int k = 0; k < 64; k++) {
                DatagramChannel ch = sockets.get(s);
                s = s + 1 == sockets.size() ? 0 : s + 1;
                int off = (int) (sent % POOL) * Message.INITIATION_LEN;
                if (ch.write(ByteBuffer.wrap(pool, off, Message.INITIATION_LEN)) > 0) {
                    sent++;
                } else {
                    refused++;
                }
            }
            // What came back, from a few sockets per round so that no receive buffer overflows for long.
            for (int k = 0; k < 8; k++) {
                DatagramChannel ch = sockets.get((int) ((sent / 64 + k) % sockets.size()));
                for (in.clear(); ch.read(in) > 0; in.clear()) {
                    if (in.position() == Message.COOKIE_REPLY_LEN && in.get(0) == Message.COOKIE_REPLY) {
                        cookies++;
                    } else {
                        other++;
                    }
                }
            }
            now = System.nanoTime();
            if (rate > 0) {
                long due = start + (long) (sent / rate * 1e9);
                if (due - now > 0) {
                    LockSupport.parkNanos(due - now);
                    now = System.nanoTime();
                }
            }
        }
        double seconds = (now - start) / 1e9;
        for (DatagramChannel ch : sockets) {
            ch.close();
        }
        System.out.println(new Json().put("sources", sockets.size()).put("sent", sent).put("sent_per_s", sent / seconds)
                .put("refused_by_socket", refused).put("cookie_replies_seen", cookies).put("other_replies_seen", other)
                .put("seconds", seconds));
    }
}
