package jwg.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import jwg.noise.Message;
import jwg.tunnel.Json;
import org.HdrHistogram.Histogram;

/**
 * Responder handshake capacity: how many handshake responses a responder sends per second while it is kept busy with
 * valid initiations (a {@link HandshakeFixture} pool), without ever counting as under load.
 *
 * <p>Closed loop with a window: at most {@code --window} initiations are unanswered at any time; each response (or a
 * {@code --timeout} without one) lets the next one go. The window stays below 1/8 of the 1024-slot handshake queue
 * (128), the threshold from which wireguard-go and jwg count as under load (§5.4.7) and answer with cookie replies,
 * and the per-source rate limiter acts only under load; so what is measured is the DH work of the responder's
 * handshake workers, not its defences. Cookie replies are counted separately and should stay zero. Responses are
 * matched to initiations by index but not decrypted (the flooder must not compete for the CPU with the daemon it
 * measures); the first {@code --warmup} seconds are not counted.
 *
 * <p>Usage: {@code InitiationFlood HOST:PORT INITIATIONS.bin [--seconds 5] [--warmup 1] [--window 64]
 * [--timeout 250]}; prints one JSON object.
 */
public final class InitiationFlood {
    private static final int LEN = Message.INITIATION_LEN;

    private final byte[] pool;
    private final int size;
    private final long[] sentAt;
    private final boolean[] answered;
    /** The oldest initiation neither answered nor given up on; every one before it is resolved. */
    private int oldest;
    private int next;
    private int outstanding;
    private long responses;
    private long cookies;
    private long timedOut;
    private long measureFrom;
    private final Histogram latency = new Histogram(10_000_000_000L, 3);

    private InitiationFlood(byte[] pool) {
        this.pool = pool;
        this.size = pool.length / LEN;
        this.sentAt = new long[size];
        this.answered = new boolean[size];
    }

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "InitiationFlood HOST:PORT INITIATIONS.bin [--seconds 5] [--warmup 1] "
                + "[--window 64] [--timeout 250]");
        InetSocketAddress target = args.address(0);
        byte[] pool = Files.readAllBytes(Path.of(args.positional(1)));
        int window = args.integer("window", 64);
        if (window < 1 || window >= 128) {
            args.fail("--window must be 1..127: from 128 queued handshakes the responder is under load");
        }
        InitiationFlood flood = new InitiationFlood(pool);
        long seconds = (long) (args.number("seconds", 5) * 1e9);
        long warmup = (long) (args.number("warmup", 1) * 1e9);
        long timeout = (long) (args.number("timeout", 250) * 1e6);
        System.out.println(flood.run(target, warmup, seconds, timeout, window));
    }

    private Json run(InetSocketAddress target, long warmup, long seconds, long timeout, int window)
            throws IOException {
        try (DatagramChannel ch = DatagramChannel.open(); Selector selector = Selector.open()) {
            ch.connect(target);
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            ByteBuffer in = ByteBuffer.allocateDirect(2048).order(ByteOrder.LITTLE_ENDIAN);
            long start = System.nanoTime();
            measureFrom = start + warmup;
            long end = measureFrom + seconds;
            long sentBefore = 0;
            long now = start;
            while (now < end) {
                expire(now, timeout);
                while (outstanding < window && next < size && send(ch, now)) {
                    next++;
                }
                if (next == size && outstanding == 0) {
                    break;
                }
                if (now < measureFrom) {
                    sentBefore = next;
                }
                selector.select(1);
                selector.selectedKeys().clear();
                now = System.nanoTime();
                receive(ch, in, now);
            }
            double measured = (Math.min(now, end) - measureFrom) / 1e9;
            return new Json().put("window", window).put("seconds", measured)
                    .put("sent", next - sentBefore).put("responses", responses)
                    .put("responses_per_s", measured > 0 ? responses / measured : null)
                    .put("cookie_replies", cookies).put("timed_out", timedOut)
                    .put("pool_exhausted", next == size)
                    .put("latency_p50_us", latency.getValueAtPercentile(50) / 1e3)
                    .put("latency_p99_us", latency.getValueAtPercentile(99) / 1e3)
                    .put("latency_max_us", latency.getMaxValue() / 1e3);
        }
    }

    private boolean send(DatagramChannel ch, long now) throws IOException {
        if (ch.write(ByteBuffer.wrap(pool, next * LEN, LEN)) == 0) {
            return false;
        }
        sentAt[next] = now;
        outstanding++;
        return true;
    }

    /** Gives up on initiations unanswered after timeout, oldest first, freeing their window slots. */
    private void expire(long now, long timeout) {
        for (; oldest < next; oldest++) {
            if (!answered[oldest]) {
                if (now - sentAt[oldest] < timeout) {
                    return;
                }
                answered[oldest] = true;
                outstanding--;
                if (sentAt[oldest] >= measureFrom) {
                    timedOut++;
                }
            }
        }
    }

    private void receive(DatagramChannel ch, ByteBuffer in, long now) throws IOException {
        while (true) {
            in.clear();
            if (ch.receive(in) == null) {
                return;
            }
            int type = in.get(0);
            int len = in.position();
            int k;
            if (type == Message.RESPONSE && len == Message.RESPONSE_LEN) {
                k = in.getInt(Message.RESPONSE_RECEIVER);
            } else if (type == Message.COOKIE_REPLY && len == Message.COOKIE_REPLY_LEN) {
                k = in.getInt(Message.COOKIE_REPLY_RECEIVER);
            } else {
                continue;
            }
            if (k < 0 || k >= next || answered[k]) {
                continue;
            }
            answered[k] = true;
            outstanding--;
            if (now >= measureFrom) {
                if (type == Message.RESPONSE) {
                    responses++;
                    latency.recordValue(now - sentAt[k]);
                } else {
                    cookies++;
                }
            }
        }
    }
}
