package jwg.tunnel;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Handshake messages per source address while under load: a token bucket of 20 a second with a burst of 5, the
 * figures of the kernel's ratelimiter.c and wireguard-go. Only the handshake thread uses it, and only under load.
 */
final class Ratelimiter {
    static final long PACKETS_PER_SECOND = 20;
    static final long PACKETS_BURSTABLE = 5;
    private static final long PACKET_COST = 1_000_000_000L / PACKETS_PER_SECOND;
    private static final long MAX_TOKENS = PACKET_COST * PACKETS_BURSTABLE;
    private static final long FORGET_AFTER_NANOS = 1_000_000_000L;

    private static final class Bucket {
        long tokens = MAX_TOKENS;
        long lastNanos;
    }

    private final Map<InetAddress, Bucket> buckets = new HashMap<>();
    private long lastSweepNanos;

    synchronized boolean allow(InetAddress source, long nowNanos) {
        if (nowNanos - lastSweepNanos > FORGET_AFTER_NANOS) {
            buckets.values().removeIf(b -> nowNanos - b.lastNanos > FORGET_AFTER_NANOS);
            lastSweepNanos = nowNanos;
        }
        Bucket b = buckets.get(source);
        if (b == null) {
            b = new Bucket();
            b.lastNanos = nowNanos;
            buckets.put(source, b);
        }
        b.tokens = Math.min(MAX_TOKENS, b.tokens + (nowNanos - b.lastNanos));
        b.lastNanos = nowNanos;
        if (b.tokens < PACKET_COST) {
            return false;
        }
        b.tokens -= PACKET_COST;
        return true;
    }
}
