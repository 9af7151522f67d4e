package jwg.roaming;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import jwg.noise.Key;

/**
 * Roaming's state for one peer that has an endpoint list. Confined to the roamer's thread, but for
 * {@link #dnsFailures}.
 */
final class PeerRoam {
    static final int HISTORY = 32;

    /** What a probe is for: finding a working endpoint, trying a preferred one alone, or a health check. */
    enum Kind {
        /** Every candidate, in waves by preference: the first answer becomes the endpoint. */
        ALL,
        /**
         * As ALL, after a local network change: an answer from the current endpoint is no sign of one-way traffic,
         * so it does not back further probes off.
         */
        LOCAL,
        /** The current entry's IPv6 addresses while on its IPv4 one: an answer moves the endpoint. */
        IPV6,
        /** A more preferred entry that passed its health checks for the hold-down: an answer moves the endpoint. */
        FAILBACK,
        /** A more preferred entry, asked whether it answers; the answer does not move the endpoint. */
        CHECK
    }

    /** A probe under way: one initiation sent to these targets. */
    record Probe(long startedNanos, List<InetSocketAddress> targets, String trigger, Kind kind,
                 InetSocketAddress endpointBefore) {}

    final Key peer;
    final Endpoints endpoints;
    final List<EndpointEntry> entries = new ArrayList<>();
    /** Every entry's addresses, most preferred first, each address once (at its best rank). */
    List<Candidate> candidates = new ArrayList<>();
    /** Resolutions that failed, for metrics: written on the roamer's thread, read by a scrape's. */
    volatile long dnsFailures;
    Probe probe;
    /** A local network change to act on at the next step, or null. */
    String localChange;
    /** Why a probe of every candidate waits for resolutions under way, or null. */
    String probeAfterResolving;
    Kind probeAfterResolvingKind = Kind.ALL;
    long noProbeBeforeNanos;
    long confirmBackoffNanos;
    long failedBackoffNanos;
    long preferredHoldDownUntilNanos;
    long preferredHoldDownNanos;
    long nextCheckNanos;
    long checkBackoffNanos;
    /** The preferred address whose health checks have passed since {@link #healthySinceNanos}, or null. */
    InetSocketAddress healthyCandidate;
    long healthySinceNanos;
    boolean checkFailureLogged;
    final ArrayDeque<Decision> history = new ArrayDeque<>();

    PeerRoam(Key peer, Endpoints endpoints) {
        this.peer = peer;
        this.endpoints = endpoints;
        for (HostPort hp : endpoints.entries()) {
            entries.add(new EndpointEntry(hp, entries.size()));
        }
    }

    Candidate candidate(InetSocketAddress a) {
        for (Candidate c : candidates) {
            if (c.address.equals(a)) {
                return c;
            }
        }
        return null;
    }

    boolean resolving() {
        for (EndpointEntry e : entries) {
            if (e.resolving) {
                return true;
            }
        }
        return false;
    }

    void record(Decision d) {
        history.addLast(d);
        while (history.size() > HISTORY) {
            history.removeFirst();
        }
    }
}
