package jwg.roaming;

import java.util.ArrayList;
import java.util.List;

/**
 * One entry of a peer's endpoint list with what resolving it has found: a name's A and AAAA addresses and when to ask
 * again, or a literal address, which is its own one answer forever. Confined to the roamer's thread.
 */
final class EndpointEntry {
    final HostPort hostPort;
    /** The entry's place in the list: 0 is the most preferred. */
    final int rank;
    /** The addresses last found, with the port; kept through DNS failures, since a stale address beats none. */
    List<ResolvedAddress> addresses = new ArrayList<>();
    long resolvedNanos;
    long nextResolveNanos;
    long retryNanos;
    boolean resolving;
    String dnsError;

    EndpointEntry(HostPort hostPort, int rank) {
        this.hostPort = hostPort;
        this.rank = rank;
    }

    boolean isName() {
        return hostPort.isName();
    }
}
