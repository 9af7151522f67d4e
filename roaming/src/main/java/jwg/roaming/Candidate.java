package jwg.roaming;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** One resolved address of a peer's host name, with what probing has learnt about it. */
final class Candidate {
    final InetSocketAddress address;
    long ttlSeconds;
    long lastOkNanos;
    long lastRttNanos;
    int failures;

    Candidate(InetSocketAddress address, long ttlSeconds) {
        this.address = address;
        this.ttlSeconds = ttlSeconds;
    }

    boolean ipv6() {
        return address.getAddress() instanceof Inet6Address;
    }

    String describe(long now) {
        StringBuilder sb = new StringBuilder(Roamer.format(address)).append(" ttl ").append(ttlSeconds).append("s");
        if (lastOkNanos != 0) {
            sb.append(", answered ").append((now - lastOkNanos) / 1_000_000_000L).append("s ago, rtt ")
                    .append(String.format("%.1f", lastRttNanos / 1e6)).append(" ms");
        }
        if (failures > 0) {
            sb.append(", ").append(failures).append(" unanswered probe(s)");
        }
        return sb.toString();
    }
}
