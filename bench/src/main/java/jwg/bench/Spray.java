package jwg.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The sending half of the harness's flooders (InitiationStorm, GarbageStorm): a pool of datagrams sent in turn at one
 * target from many sources, every address given with {@code ports} sockets each, so that the target sees thousands
 * of endpoints as a real flood would. One thread, not thread-safe.
 *
 * <p>Whatever comes back is drained as it goes, from a few sockets per round so that no receive buffer overflows
 * for long, and handed to the caller to classify.
 */
final class Spray implements AutoCloseable {
    /** Datagrams sent between two looks at the clock and the replies. */
    private static final int BURST = 64;

    private final List<DatagramChannel> sockets = new ArrayList<>();
    private long sent;
    private long refused;
    private double seconds;

    /** Sockets from every address of the comma-separated sources, ports of them each, connected to target. */
    Spray(InetSocketAddress target, String sources, int ports) throws IOException {
        for (String source : sources.split(",")) {
            if (source.isBlank()) {
                continue;
            }
            InetAddress address = InetAddress.getByName(source.trim());
            for (int p = 0; p < ports; p++) {
                DatagramChannel ch = DatagramChannel.open();
                sockets.add(ch);
                ch.bind(new InetSocketAddress(address, 0));
                ch.connect(target);
                ch.configureBlocking(false);
            }
        }
    }

    int sockets() {
        return sockets.size();
    }

    /**
     * Sends pool[0], pool[1], ... round and round for nanos, as fast as one thread can or at rate datagrams/s (0:
     * unpaced), each from the next socket (one the kernel refuses is tried again from the one after); every datagram
     * that comes back goes to reply. After it, pool[i] went out {@code sent() / pool.length} times, plus once more
     * if {@code i < sent() % pool.length}. Datagrams must not be empty (an empty write cannot tell sent from
     * refused).
     */
    void run(ByteBuffer[] pool, long nanos, double rate, Consumer<ByteBuffer> reply) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(2048);
        long start = System.nanoTime();
        long now = start;
        int s = 0;
        while (now - start < nanos) {
            for (int k = 0; k < BURST; k++) {
                DatagramChannel ch = sockets.get(s);
                s = s + 1 == sockets.size() ? 0 : s + 1;
                if (ch.write(pool[(int) (sent % pool.length)].rewind()) > 0) {
                    sent++;
                } else {
                    refused++;
                }
            }
            for (int k = 0; k < 8; k++) {
                DatagramChannel ch = sockets.get((int) ((sent / BURST + k) % sockets.size()));
                for (in.clear(); ch.read(in) > 0; in.clear()) {
                    reply.accept(in.flip());
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
        seconds = (now - start) / 1e9;
    }

    /** Datagrams the kernel took. */
    long sent() {
        return sent;
    }

    /** Writes the kernel refused (the socket's send buffer was full). */
    long refused() {
        return refused;
    }

    double seconds() {
        return seconds;
    }

    @Override
    public void close() throws IOException {
        for (DatagramChannel ch : sockets) {
            ch.close();
        }
    }
}
