package jwg.tunnel;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Handshake messages per source (an IPv4 address, an IPv6 /64, as the kernel counts them) while under load: a token bucket of 20 a second with a burst of 5, the
 * figures of the kernel's ratelimiter.c and wireguard-go. The handshake workers share one, used only under load; the
 * UDP loop has another for the known senders' lane ({@link Handshakes}), used only for messages from peers' endpoints.
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

    /** Keyed by the IPv4 address, or by an IPv6 address's /64: whoever holds a /64 can send from any address in it. */
    private final Map<Object, Bucket> buckets = new HashMap<>();
    private long lastSweepNanos;

    synchronized boolean allow(InetAddress source, long nowNanos) {
        if (nowNanos - lastSweepNanos > FORGET_AFTER_NANOS) {
            buckets.values().removeIf(b -> nowNanos - b.lastNanos > FORGET_AFTER_NANOS);
            lastSweepNanos = nowNanos;
        }
        Object key = key(source);
        Bucket b = buckets.get(key);
        if (b == null) {
            b = new Bucket();
            b.lastNanos = nowNanos;
            buckets.put(key, b);
        }
        b.tokens = Math.min(MAX_TOKENS, b.tokens + (nowNanos - b.lastNanos));
        b.lastNanos = nowNanos;
        if (b.tokens < PACKET_COST) {
            return false;
        }
        b.tokens -= PACKET_COST;
        return true;
    }

    private static Object key(InetAddress source) {
        if (source instanceof Inet6Address) {
            byte[] a = source.getAddress();
            long prefix = 0;
            for (int i = 0; i < 8; i++) {
                prefix = prefix << 8 | (a[i] & 0xff);
            }
            return prefix;
        }
        return source;
    }
}
