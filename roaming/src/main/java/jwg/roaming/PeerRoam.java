package jwg.roaming;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import jwg.noise.Key;

/** Roaming's state for one peer that has a host name. Confined to the roamer's thread, but for {@link #dnsFailures}. */
final class PeerRoam {
    static final int HISTORY = 32;

    /** A probe under way: one initiation sent to these targets. */
    record Probe(long startedNanos, List<InetSocketAddress> targets, String trigger, boolean preferredOnly,
                 InetSocketAddress endpointBefore) {}

    final Key peer;
    final HostPort host;
    List<Candidate> candidates = new ArrayList<>();
    long resolvedNanos;
    long nextResolveNanos;
    long dnsRetryNanos;
    boolean resolving;
    String dnsError;
    /** Resolutions that failed, for metrics: written on the roamer's thread, read by a scrape's. */
    volatile long dnsFailures;
    Probe probe;
    long noProbeBeforeNanos;
    long confirmBackoffNanos;
    long failedBackoffNanos;
    long preferredHoldDownUntilNanos;
    long preferredHoldDownNanos;
    final ArrayDeque<Decision> history = new ArrayDeque<>();

    PeerRoam(Key peer, HostPort host) {
        this.peer = peer;
        this.host = host;
    }

    Candidate candidate(InetSocketAddress a) {
        for (Candidate c : candidates) {
            if (c.address.equals(a)) {
                return c;
            }
        }
        return null;
    }

    void record(Decision d) {
        history.addLast(d);
        while (history.size() > HISTORY) {
            history.removeFirst();
        }
    }
}
