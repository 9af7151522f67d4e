package jwg.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import jwg.noise.Message;
import jwg.tunnel.Json;

/**
 * The cheapest attack on a responder: handshake initiations whose mac1 is wrong, sent as fast as one thread can for
 * {@code --seconds}. They are a {@link HandshakeFixture} pool's initiations with one bit of mac1 flipped, so they
 * are the right type and length, and everything a responder checks before mac1 passes (§5.4.4: mac1 is checked
 * before any DH). This tool only sends and counts; bench/compare subtracts the responder namespace's UDP
 * receive-buffer drops to get how many the daemon took in.
 *
 * <p>Usage: {@code BadMac1Flood HOST:PORT INITIATIONS.bin [--seconds 3]}; prints one JSON object.
 */
public final class BadMac1Flood {
    private static final int VARIANTS = 1024;

    private BadMac1Flood() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "BadMac1Flood HOST:PORT INITIATIONS.bin [--seconds 3]");
        InetSocketAddress target = args.address(0);
        byte[] pool = Files.readAllBytes(Path.of(args.positional(1)));
        int n = Math.min(VARIANTS, pool.length / Message.INITIATION_LEN);
        if (n == 0) {
            args.fail("no initiations in " + args.positional(1));
        }
        byte[] bad = Arrays.copyOf(pool, n * Message.INITIATION_LEN);
        for (int i = 0; i < n; i++) {
            bad[i * Message.INITIATION_LEN + Message.INITIATION_MAC1] ^= 1;
        }
        long duration = (long) (args.number("seconds", 3) * 1e9);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.connect(target);
            long sent = 0;
            long start = System.nanoTime();
            long now = start;
            while (now - start < duration) {
                for (int i = 0; i < 64; i++) {
                    int off = (int) (sent % n) * Message.INITIATION_LEN;
                    try {
                        ch.write(ByteBuffer.wrap(bad, off, Message.INITIATION_LEN));
                        sent++;
                    } catch (PortUnreachableException e) {
                        // An ICMP error from before the daemon's socket existed; the next write goes out.
                    }
                }
                now = System.nanoTime();
            }
            double seconds = (now - start) / 1e9;
            System.out.println(new Json().put("sent", sent).put("seconds", seconds).put("sent_per_s", sent / seconds));
        }
    }
}
