package jwg.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import jwg.tunnel.Json;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Round-trip latency through the tunnel as a distribution: UDP requests at a fixed rate to an {@link EchoServer},
 * round trips recorded in nanoseconds into an HdrHistogram (3 significant digits), reported in microseconds.
 *
 * <p>Open loop: a sender thread keeps the schedule whatever the replies do, and a receiver thread records; so a
 * stall in the tunnel delays every request that falls into it, and each of those is counted at its real latency
 * (a closed loop would send one request during the stall and hide the rest: coordinated omission). The send time
 * travels in the request itself (taken just before the send, so the client's own wake-up jitter is not charged to
 * the tunnel) and comes back in the echo; no bookkeeping per request. The first {@code --warmup} seconds are sent
 * but not recorded: they compile the client.
 *
 * <p>Usage: {@code LatencyClient HOST:PORT [--rate 1000] [--seconds 10] [--warmup 1] [--size 64]}; prints one
 * JSON object: counts, p50/p90/p99/p99.9/max/mean in µs, the percentile distribution for plotting, and the
 * histogram itself (compressed, base64) so the raw figures stay reproducible.
 */
public final class LatencyClient {
    private static final long MAX_TRACKABLE_NANOS = 60_000_000_000L;
    private static final long GRACE_NANOS = 1_000_000_000L;

    private final DatagramChannel channel;
    private final int size;
    private final Histogram histogram = new Histogram(MAX_TRACKABLE_NANOS, 3);
    private volatile long firstRecordedSeq = Long.MAX_VALUE;
    private long received;

    private LatencyClient(DatagramChannel channel, int size) {
        this.channel = channel;
        this.size = size;
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(argv, "LatencyClient HOST:PORT [--rate 1000] [--seconds 10] [--warmup 1] [--size 64]");
        InetSocketAddress target = args.address(0);
        double rate = args.number("rate", 1000);
        double seconds = args.number("seconds", 10);
        double warmup = args.number("warmup", 1);
        int size = Math.max(16, args.integer("size", 64));
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.connect(target);
            LatencyClient client = new LatencyClient(ch, size);
            Thread receiver = Thread.ofPlatform().name("receiver").start(client::receiveLoop);
            long sent = client.sendLoop(rate, seconds, warmup);
            LockSupport.parkNanos(GRACE_NANOS);
            ch.close();
            receiver.join();
            System.out.println(client.report(rate, seconds, sent));
        }
    }

    /** Sends on schedule; returns how many requests were sent after the warm-up. */
    private long sendLoop(double rate, double seconds, double warmup) throws IOException {
        long interval = (long) (1e9 / rate);
        long warmupCount = (long) (warmup * rate);
        long total = warmupCount + (long) (seconds * rate);
        ByteBuffer req = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
        long start = System.nanoTime();
        for (long seq = 0; seq < total; seq++) {
            long due = start + seq * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            if (seq == warmupCount) {
                firstRecordedSeq = seq;
            }
            req.clear();
            req.putLong(0, seq).putLong(8, System.nanoTime());
            channel.write(req);
        }
        return total - warmupCount;
    }

    private void receiveLoop() {
        ByteBuffer reply = ByteBuffer.allocateDirect(65536).order(ByteOrder.LITTLE_ENDIAN);
        while (true) {
            reply.clear();
            try {
                channel.read(reply);
            } catch (PortUnreachableException e) {
                // The echo server was not up for that request: it is lost, as a dropped one would be.
                continue;
            } catch (IOException e) {
                return; // closed: the sender is done and the grace period is over
            }
            long now = System.nanoTime();
            if (reply.position() >= 16 && reply.getLong(0) >= firstRecordedSeq) {
                histogram.recordValue(Math.min(now - reply.getLong(8), MAX_TRACKABLE_NANOS));
                received++;
            }
        }
    }

    private Json report(double rate, double seconds, long sent) {
        List<List<Double>> distribution = new ArrayList<>();
        if (histogram.getTotalCount() > 0) {
            for (HistogramIterationValue v : histogram.percentiles(5)) {
                distribution.add(List.of(v.getPercentileLevelIteratedTo(), v.getValueIteratedTo() / 1e3));
            }
        }
        ByteBuffer encoded = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int len = histogram.encodeIntoCompressedByteBuffer(encoded);
        return new Json()
                .put("rate_per_s", rate).put("seconds", seconds).put("payload_bytes", size)
                .put("sent", sent).put("received", received).put("lost", sent - received)
                .put("p50_us", micros(50)).put("p90_us", micros(90)).put("p99_us", micros(99))
                .put("p999_us", micros(99.9)).put("max_us", histogram.getMaxValue() / 1e3)
                .put("min_us", histogram.getMinValue() / 1e3).put("mean_us", histogram.getMean() / 1e3)
                .put("distribution", distribution)
                .put("histogram", Base64.getEncoder().encodeToString(Arrays.copyOf(encoded.array(), len)));
    }

    private double micros(double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1e3;
    }
}
