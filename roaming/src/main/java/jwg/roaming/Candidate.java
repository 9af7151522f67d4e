package jwg.roaming;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** One address of a peer's endpoint list (resolved from a name, or given), with what probing has learnt about it. */
final class Candidate {
    final InetSocketAddress address;
    /** The rank of the list entry it came from: 0 is the most preferred. */
    final int rank;
    long ttlSeconds;
    long lastOkNanos;
    long lastRttNanos;
    int failures;

    Candidate(InetSocketAddress address, int rank, long ttlSeconds) {
        this.address = address;
        this.rank = rank;
        this.ttlSeconds = ttlSeconds;
    }

    boolean ipv6() {
        return address.getAddress() instanceof Inet6Address;
    }

    String describe(long now) {
        StringBuilder sb = new StringBuilder(Roamer.format(address));
        if (ttlSeconds >= 0) {
            sb.append(" ttl ").append(ttlSeconds).append("s");
        }
        if (rank > 0) {
            sb.append(", entry ").append(rank + 1);
        }
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
