package jwg.roaming;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import jwg.noise.Key;

/**
 * Keeps the endpoints of peers that have a host name, or a list of endpoints, pointing at an address that works,
 * inside the daemon:
 * <ul>
 * <li>a peer's {@link Endpoints} are candidates in order of preference: each entry's addresses (IPv6 before IPv4),
 *     then the next entry's; probes go out in waves in that order, {@link #HAPPY_EYEBALLS_DELAY_NANOS} apart, so the
 *     most preferred entry that answers quickly wins;</li>
 * <li>fails back to a more preferred entry only after it has answered health checks ({@link Tunnel#check}, which
 *     never move the endpoint) for the list's hold-down, checking every quarter of it (back-off to
 *     {@link #CHECK_BACKOFF_MAX_NANOS} while they go unanswered), so an entry that comes and goes is not used, and
 *     two healthy ones never flap;</li>
 * <li>re-resolves every A and AAAA record when its TTL expires (clamped to {@link #MIN_TTL_NANOS} to
 *     {@link #MAX_TTL_NANOS}), and at once when the current endpoint stops answering; a DNS failure keeps the last
 *     addresses and retries with back-off, so it never takes a working tunnel down; a name that never resolved yet
 *     is retried at least every {@link #DNS_RETRY_UNRESOLVED_MAX_NANOS}, and its first addresses are probed at
 *     once;</li>
 * <li>suspects the current path when data sent to the peer has gone unanswered (nothing authenticated came
 *     back) for a few of the path's round trips ({@link #SUSPECT_RTTS} times its least recent one, at least
 *     {@link #SUSPECT_FLOOR_NANOS}; {@link #SUSPECT_AFTER_NANOS} while no round trip is known, and never longer):
 *     much faster than the whitepaper's 15 s rule, and without extra traffic while packets flow both ways. The
 *     clock starts at the oldest unanswered packet, not the newest: a sender of one packet a second on a 50 ms
 *     path is answered each time, and never looks like a dead path; and it stops at the newest, since only a
 *     sender that keeps sending without an answer shows anything (a lone reply to the peer is never answered);</li>
 * <li>probes with WireGuard itself: one handshake initiation to every candidate, IPv6 first and IPv4
 *     {@link #HAPPY_EYEBALLS_DELAY_NANOS} later (RFC 8305); the first response decides, through built-in roaming
 *     (see {@link Tunnel#probe} for why one message to several addresses is safe);</li>
 * <li>prefers IPv6: while on IPv4, it tries the IPv6 candidates alone, at most once per hold-down, which doubles
 *     after each failure ({@link #PREFERRED_HOLD_DOWN_MIN_NANOS} up to {@link #PREFERRED_HOLD_DOWN_MAX_NANOS}), so a
 *     broken IPv6 costs one unanswered initiation per hold-down and two healthy paths never flap;</li>
 * <li>backs off after a probe that only confirms the current endpoint (5 s doubling to 60 s), bounding the
 *     handshakes one-way traffic could otherwise cause;</li>
 * <li>re-resolves and probes every followed peer when the local network changes ({@link #localNetworkChanged}),
 *     rate-limited;</li>
 * <li>never undoes a peer's own roaming (an authenticated packet from a new address wins), and never touches peers
 *     without a host name.</li>
 * </ul>
 * Every decision is logged with its reason and kept for `jwg roam`. All work runs on one scheduler thread; device
 * callbacks are handed to it.
 */
public final class Roamer implements Tunnel.Listener, AutoCloseable {
    static final long SECOND = 1_000_000_000L;
    static final long TICK_NANOS = 100_000_000L;
    static final long MIN_TTL_NANOS = 5 * SECOND;
    static final long MAX_TTL_NANOS = 300 * SECOND;
    static final long DNS_RETRY_MIN_NANOS = SECOND;
    static final long DNS_RETRY_MAX_NANOS = 60 * SECOND;
    /**
     * The back-off's ceiling while a name has never resolved (a device booting before its uplink, DNS down at
     * wg-quick up): the peer cannot work at all until it does, and a query every few seconds costs nothing.
     */
    static final long DNS_RETRY_UNRESOLVED_MAX_NANOS = 5 * SECOND;
    static final long SUSPECT_AFTER_NANOS = 1_500_000_000L;
    /**
     * The least unanswered time that makes a path suspect, however short its round trip: above a busy peer's
     * scheduling delays and a collector's pauses, and above the jitter of a path whose last handshake happened to be
     * quick.
     */
    static final long SUSPECT_FLOOR_NANOS = 500_000_000L;
    static final int SUSPECT_RTTS = 4;
    static final long HAPPY_EYEBALLS_DELAY_NANOS = 250_000_000L;
    static final long PROBE_TIMEOUT_NANOS = 2 * SECOND;
    static final long CONFIRM_BACKOFF_MIN_NANOS = 5 * SECOND;
    static final long CONFIRM_BACKOFF_MAX_NANOS = 60 * SECOND;
    static final long FAILED_BACKOFF_MAX_NANOS = 30 * SECOND;
    static final long PREFERRED_HOLD_DOWN_MIN_NANOS = 30 * SECOND;
    static final long PREFERRED_HOLD_DOWN_MAX_NANOS = 15 * 60 * SECOND;
    /** A local change is acted on this long after its first event, when the rest of its burst has come. */
    static final long LOCAL_CHANGE_SETTLE_NANOS = 150_000_000L;
    /** Local changes cost every followed peer a handshake: no more than one round of them per this. */
    static final long LOCAL_CHANGE_MIN_INTERVAL_NANOS = 2 * SECOND;
    /** Health checks of a preferred entry happen every quarter of the hold-down, within these bounds. */
    static final long CHECK_INTERVAL_MIN_NANOS = SECOND;
    static final long CHECK_INTERVAL_MAX_NANOS = 15 * SECOND;
    /** A fail-back probe follows the check that completed the hold-down after this (see checkAnswered). */
    static final long FAILBACK_AFTER_CHECK_NANOS = 200_000_000L;
    /** While checks go unanswered they back off to this: one initiation a minute to a site that is down. */
    static final long CHECK_BACKOFF_MAX_NANOS = 60 * SECOND;

    private final Tunnel tunnel;
    private final Resolver resolver;
    private final Consumer<Decision> log;
    private final LongSupplier clock;
    private final ScheduledExecutorService executor;
    private final Map<Key, PeerRoam> peers = new ConcurrentHashMap<>();
    /** Local network changes not acted on yet, and when the first of them came; the roamer's thread only. */
    private final List<String> localChanges = new ArrayList<>();
    private long localChangeAtNanos;
    private long lastLocalActionNanos;

    public Roamer(Tunnel tunnel, Resolver resolver, Consumer<Decision> log, LongSupplier clock,
                  ScheduledExecutorService executor) {
        this.tunnel = tunnel;
        this.resolver = resolver;
        this.log = log;
        this.clock = clock;
        this.executor = executor;
    }

    /** Ticks every {@link #TICK_NANOS} on the executor. */
    public void start() {
        executor.scheduleWithFixedDelay(this::tick, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
    }

    /** Gives a peer endpoints to follow (replacing any), or with null stops following it. */
    public void setEndpoints(Key peer, Endpoints endpoints) {
        executor.execute(() -> {
            PeerRoam old = peers.remove(peer);
            if (endpoints == null) {
                if (old != null) {
                    report(peer, Decision.Event.UNFOLLOWED, "no longer following " + old.endpoints, "host",
                            old.endpoints.toString());
                }
                return;
            }
            PeerRoam r = new PeerRoam(peer, endpoints);
            long now = clock.getAsLong();
            for (EndpointEntry e : r.entries) {
                if (!e.isName()) {
                    // A literal is its own answer, for good.
                    e.addresses = List.of(new ResolvedAddress(e.hostPort.literal(), -1));
                    e.resolvedNanos = now;
                }
            }
            r.candidates = candidates(r);
            peers.put(peer, r);
            decide(r, Decision.Event.FOLLOWING, (r.entries.size() == 1 ? "following host name "
                    : "following endpoints (most preferred first) ") + endpoints, "host", endpoints.toString(),
                    "failback_after_s", endpoints.failbackAfterSeconds());
        });
    }

    /** Each followed peer's count of failed resolutions so far. Any thread. */
    public void forEachDnsFailures(java.util.function.ObjLongConsumer<Key> each) {
        for (PeerRoam r : peers.values()) {
            each.accept(r.peer, r.dnsFailures);
        }
    }

    public Endpoints endpoints(Key peer) {
        PeerRoam r = peers.get(peer);
        return r == null ? null : r.endpoints;
    }

    /**
     * The local network changed (an address, a link or a route of this namespace: see the tunnel's NetlinkWatch):
     * a peer's path may now leave from another address, or not at all. Every followed peer re-resolves and probes
     * once the burst of events has settled ({@link #LOCAL_CHANGE_SETTLE_NANOS}), and at most once per
     * {@link #LOCAL_CHANGE_MIN_INTERVAL_NANOS}. The probe's handshake also tells the peer where this side now is,
     * which matters most when this side only receives: the peer's packets to an address that is gone are lost, and
     * nothing else would tell it. Any thread.
     */
    public void localNetworkChanged(String what) {
        executor.execute(() -> {
            if (localChanges.isEmpty()) {
                localChangeAtNanos = clock.getAsLong();
            }
            if (localChanges.size() < 8 && !localChanges.contains(what)) {
                localChanges.add(what);
            }
        });
    }

    /** Runs one scheduling step now (tests drive the roamer with it and a manual clock). */
    void tick() {
        long now = clock.getAsLong();
        String localChange = null;
        if (!localChanges.isEmpty() && now - localChangeAtNanos >= LOCAL_CHANGE_SETTLE_NANOS
                && (lastLocalActionNanos == 0 || now - lastLocalActionNanos >= LOCAL_CHANGE_MIN_INTERVAL_NANOS)) {
            localChange = "local network changed: " + String.join("; ", localChanges);
            localChanges.clear();
            lastLocalActionNanos = now;
        }
        for (PeerRoam r : peers.values()) {
            if (localChange != null && !r.candidates.isEmpty() && tunnel.hasPeer(r.peer)) {
                r.localChange = localChange;
            }
            try {
                tick(r, now);
            } catch (RuntimeException e) {
                report(r.peer, Decision.Event.STEP_FAILED, "roaming step failed: " + e, "error", e.toString());
            }
        }
    }

    private void tick(PeerRoam r, long now) {
        if (!tunnel.hasPeer(r.peer)) {
            return;
        }
        for (EndpointEntry e : r.entries) {
            if (e.isName() && !e.resolving && now - e.nextResolveNanos >= 0) {
                resolve(r, e, e.resolvedNanos == 0 ? "first resolution" : "TTL expired");
            }
        }
        if (r.probe != null) {
            if (now - r.probe.startedNanos() > PROBE_TIMEOUT_NANOS) {
                probeFailed(r, now);
            }
            return;
        }
        String suspicion = suspicion(r, now);
        boolean local = suspicion == null && r.localChange != null;
        if (local) {
            suspicion = r.localChange;
            decide(r, Decision.Event.LOCAL_CHANGE, r.localChange + ": re-resolving and probing", "trigger",
                    r.localChange);
        }
        r.localChange = null;
        if (suspicion != null) {
            // A local change is news of its own: it does not wait out the back-off of earlier probes.
            if ((local || now - r.noProbeBeforeNanos >= 0) && r.probeAfterResolving == null) {
                // Names not asked within the last second are asked again first; the last answer starts the probe.
                for (EndpointEntry e : r.entries) {
                    if (e.isName() && !e.resolving && now - e.resolvedNanos > SECOND) {
                        resolve(r, e, suspicion);
                    }
                }
                if (r.resolving()) {
                    r.probeAfterResolving = suspicion;
                    r.probeAfterResolvingKind = local ? PeerRoam.Kind.LOCAL : PeerRoam.Kind.ALL;
                } else {
                    probe(r, now, local ? PeerRoam.Kind.LOCAL : PeerRoam.Kind.ALL, r.candidates, suspicion);
                }
            }
            return;
        }
        preferWhileHealthy(r, now);
    }

    /**
     * On a working path that is not the most preferred: health checks of the more preferred entries (and fail-back
     * once one has passed them for the hold-down); or, within the current entry, IPv6 tried alone while on IPv4.
     */
    private void preferWhileHealthy(PeerRoam r, long now) {
        InetSocketAddress current = tunnel.endpoint(r.peer);
        if (current == null || now - r.noProbeBeforeNanos < 0) {
            return;
        }
        // Only from an endpoint of the list: an address the peer roamed to on its own is its choice, and kept.
        Candidate at = r.candidate(current);
        if (at != null && at.rank > 0) {
            List<Candidate> better = r.candidates.stream().filter(c -> c.rank < at.rank).toList();
            if (!better.isEmpty()) {
                if (now - r.nextCheckNanos >= 0) {
                    Candidate passed = r.healthyCandidate == null ? null : r.candidate(r.healthyCandidate);
                    long passing = now - r.healthySinceNanos;
                    if (passed != null && passed.rank < at.rank
                            && passing >= r.endpoints.failbackAfterSeconds() * SECOND) {
                        probe(r, now, PeerRoam.Kind.FAILBACK, List.of(passed), "fail-back: " + format(passed.address)
                                + " answered health checks for " + passing / SECOND + " s");
                    } else {
                        probe(r, now, PeerRoam.Kind.CHECK, better, "health check of entries preferred to "
                                + format(current));
                    }
                }
                return;
            }
        }
        if (!(current.getAddress() instanceof Inet6Address) && now - r.preferredHoldDownUntilNanos >= 0) {
            List<Candidate> v6 = r.candidates.stream()
                    .filter(c -> c.ipv6() && (at == null || c.rank == at.rank)).toList();
            if (!v6.isEmpty()) {
                probe(r, now, PeerRoam.Kind.IPV6, v6, "on IPv4 while the name has IPv6 addresses: trying IPv6");
            }
        }
    }

    /** Why the current path looks dead, or null if it does not. */
    private String suspicion(PeerRoam r, long now) {
        if (r.candidates.isEmpty()) {
            return null;
        }
        InetSocketAddress current = tunnel.endpoint(r.peer);
        if (current == null) {
            return "no endpoint";
        }
        long first = tunnel.firstUnansweredDataNanos(r.peer);
        long tx = tunnel.lastDataSentNanos(r.peer);
        long limit = suspectAfter(tunnel.pathRttNanos(r.peer));
        // Still sending, and sending for longer than the limit with nothing back: the last packet of an exchange,
        // which nothing answers (a reply to the peer's ping, a final ACK), is no evidence.
        if (first != 0 && now - tx < SECOND && tx - first > limit) {
            return "sent data for " + (tx - first) / 1_000_000 + " ms with nothing back (limit " + limit / 1_000_000
                    + " ms) from " + format(current);
        }
        return null;
    }

    /**
     * How long data may go unanswered on the current path before it is suspect (see the class comment), given its
     * round trip as the device measures it (it sees every exchange, and the first ones often happen before the peer
     * is followed or its name first resolves).
     */
    private static long suspectAfter(long rtt) {
        if (rtt <= 0) {
            return SUSPECT_AFTER_NANOS;
        }
        return Math.min(SUSPECT_AFTER_NANOS, Math.max(SUSPECT_FLOOR_NANOS, SUSPECT_RTTS * rtt));
    }

    /** How often a preferred entry is checked: a quarter of the hold-down, so it passes about four checks. */
    private static long checkInterval(PeerRoam r) {
        return Math.max(CHECK_INTERVAL_MIN_NANOS, Math.min(CHECK_INTERVAL_MAX_NANOS,
                r.endpoints.failbackAfterSeconds() * SECOND / 4));
    }

    /** Every entry's addresses in order of preference: by entry, IPv6 first within one; each address once. */
    private static List<Candidate> candidates(PeerRoam r) {
        List<Candidate> out = new ArrayList<>();
        for (EndpointEntry e : r.entries) {
            for (boolean v6 : new boolean[] {true, false}) {
                for (ResolvedAddress a : e.addresses) {
                    if ((a.address() instanceof Inet6Address) != v6) {
                        continue;
                    }
                    InetSocketAddress sa = new InetSocketAddress(a.address(), e.hostPort.port());
                    if (out.stream().anyMatch(c -> c.address.equals(sa))) {
                        continue;
                    }
                    Candidate known = r.candidate(sa);
                    Candidate c = known != null && known.rank == e.rank ? known
                            : new Candidate(sa, e.rank, a.ttlSeconds());
                    c.ttlSeconds = a.ttlSeconds();
                    out.add(c);
                }
            }
        }
        return out;
    }

    /**
     * The waves of a probe: each entry's IPv6 addresses, then its IPv4 ones, then the next entry's (RFC 8305's head
     * start, extended to the order of the list).
     */
    private static List<List<InetSocketAddress>> waves(List<Candidate> targets) {
        List<List<InetSocketAddress>> waves = new ArrayList<>();
        List<InetSocketAddress> wave = new ArrayList<>();
        Candidate previous = null;
        for (Candidate c : targets) {
            if (previous != null && (c.rank != previous.rank || c.ipv6() != previous.ipv6())) {
                waves.add(List.copyOf(wave));
                wave.clear();
            }
            wave.add(c.address);
            previous = c;
        }
        if (!wave.isEmpty()) {
            waves.add(List.copyOf(wave));
        }
        return waves;
    }

    private void resolve(PeerRoam r, EndpointEntry e, String trigger) {
        e.resolving = true;
        String host = e.hostPort.host();
        resolver.resolve(host).whenComplete((addresses, error) -> executor.execute(() -> {
            long now = clock.getAsLong();
            e.resolving = false;
            if (error != null || addresses == null || addresses.isEmpty()) {
                r.dnsFailures++;
                long ceiling = e.addresses.isEmpty() ? DNS_RETRY_UNRESOLVED_MAX_NANOS : DNS_RETRY_MAX_NANOS;
                e.retryNanos = Math.min(ceiling, Math.max(DNS_RETRY_MIN_NANOS, 2 * e.retryNanos));
                e.nextResolveNanos = now + e.retryNanos;
                String why = error == null ? "no addresses" : String.valueOf(error.getMessage());
                if (!why.equals(e.dnsError)) {
                    decide(r, Decision.Event.DNS_FAILED, "resolving " + host + " failed (" + why + "); "
                            + (e.addresses.isEmpty()
                                    ? "no address known yet, retrying at least every " + ceiling / SECOND + " s"
                                    : "keeping " + e.addresses.size() + " known address(es), retrying with back-off"),
                            "host", host, "error", why, "known_addresses", e.addresses.size(),
                            "retry_s", e.retryNanos / SECOND);
                }
                e.dnsError = why;
            } else {
                e.dnsError = null;
                e.retryNanos = 0;
                long ttl = Long.MAX_VALUE;
                for (ResolvedAddress a : addresses) {
                    ttl = Math.min(ttl, a.ttlSeconds() * SECOND);
                }
                List<String> before = addressesOf(e);
                e.addresses = List.copyOf(addresses);
                e.resolvedNanos = now;
                e.nextResolveNanos = now + Math.max(MIN_TTL_NANOS, Math.min(MAX_TTL_NANOS, ttl));
                r.candidates = candidates(r);
                List<String> after = addressesOf(e);
                if (!before.equals(after)) {
                    decide(r, Decision.Event.RESOLVED, host + " resolves to " + String.join(", ", after)
                            + " (" + trigger + ")", "host", host, "addresses", after, "trigger", trigger);
                }
            }
            String waiting = r.probeAfterResolving;
            if (waiting != null && !r.resolving()) {
                r.probeAfterResolving = null;
                if (r.probe == null && !r.candidates.isEmpty()) {
                    probe(r, now, r.probeAfterResolvingKind, r.candidates, waiting);
                }
            }
        }));
    }

    private void probe(PeerRoam r, long now, PeerRoam.Kind kind, List<Candidate> targets, String trigger) {
        List<InetSocketAddress> addresses = targets.stream().map(c -> c.address).toList();
        r.probe = new PeerRoam.Probe(now, addresses, trigger, kind, tunnel.endpoint(r.peer));
        List<String> names = addresses.stream().map(Roamer::format).toList();
        report(r.peer, kind == PeerRoam.Kind.CHECK ? Decision.Event.CHECKING : Decision.Event.PROBING,
                (kind == PeerRoam.Kind.CHECK ? "checking " : "probing ") + String.join(", ", names) + " (" + trigger
                        + ")", "targets", names, "trigger", trigger);
        if (kind == PeerRoam.Kind.CHECK) {
            tunnel.check(r.peer, addresses);
        } else {
            tunnel.probe(r.peer, waves(targets), HAPPY_EYEBALLS_DELAY_NANOS);
        }
    }

    private void probeFailed(PeerRoam r, long now) {
        PeerRoam.Probe p = r.probe;
        r.probe = null;
        for (InetSocketAddress a : p.targets()) {
            Candidate c = r.candidate(a);
            if (c != null) {
                c.failures++;
            }
        }
        InetSocketAddress current = tunnel.endpoint(r.peer);
        switch (p.kind()) {
            case IPV6 -> {
                r.preferredHoldDownNanos = Math.min(PREFERRED_HOLD_DOWN_MAX_NANOS,
                        Math.max(PREFERRED_HOLD_DOWN_MIN_NANOS, 2 * r.preferredHoldDownNanos));
                r.preferredHoldDownUntilNanos = now + r.preferredHoldDownNanos;
                decide(r, Decision.Event.PREFERRED_FAILED, "IPv6 did not answer; staying on " + format(current)
                        + ", next IPv6 try in " + r.preferredHoldDownNanos / SECOND + " s", "endpoint",
                        fact(current), "hold_down_s", r.preferredHoldDownNanos / SECOND);
            }
            case CHECK, FAILBACK -> {
                boolean wasPassing = r.healthySinceNanos != 0;
                r.healthySinceNanos = 0;
                r.healthyCandidate = null;
                r.checkBackoffNanos = Math.min(CHECK_BACKOFF_MAX_NANOS, Math.max(checkInterval(r),
                        2 * r.checkBackoffNanos));
                r.nextCheckNanos = now + r.checkBackoffNanos;
                // Logged when it changes something: a run of passed checks broken, or the first failure in a row.
                if (wasPassing || !r.checkFailureLogged || p.kind() == PeerRoam.Kind.FAILBACK) {
                    r.checkFailureLogged = true;
                    decide(r, Decision.Event.CHECK_FAILED, (p.kind() == PeerRoam.Kind.FAILBACK ? "fail-back to "
                            : "health check of ") + String.join(", ", p.targets().stream().map(Roamer::format)
                            .toList()) + " got no answer; staying on " + format(current) + ", next check in "
                            + r.checkBackoffNanos / SECOND + " s", "endpoint", fact(current), "targets",
                            p.targets().stream().map(Roamer::format).toList(), "retry_s",
                            r.checkBackoffNanos / SECOND);
                }
            }
            case ALL, LOCAL -> {
                r.failedBackoffNanos = Math.min(FAILED_BACKOFF_MAX_NANOS, Math.max(SECOND,
                        2 * r.failedBackoffNanos));
                r.noProbeBeforeNanos = now + r.failedBackoffNanos;
                decide(r, Decision.Event.PROBE_FAILED, "no candidate answered (" + p.trigger() + "); next probe in "
                        + r.failedBackoffNanos / SECOND + " s", "trigger", p.trigger(), "retry_s",
                        r.failedBackoffNanos / SECOND);
            }
        }
    }

    @Override
    public void handshakeCompleted(Key peer, InetSocketAddress from, long rttNanos) {
        executor.execute(() -> {
            PeerRoam r = peers.get(peer);
            if (r == null) {
                return;
            }
            long now = clock.getAsLong();
            Candidate c = r.candidate(from);
            if (c != null) {
                c.lastOkNanos = now;
                c.lastRttNanos = rttNanos;
                c.failures = 0;
            }
            PeerRoam.Probe p = r.probe;
            if (p == null) {
                return;
            }
            r.probe = null;
            if (p.kind() == PeerRoam.Kind.CHECK) {
                checkAnswered(r, p, from, now);
                return;
            }
            r.failedBackoffNanos = 0;
            String rtts = rtts(r);
            if (from.equals(p.endpointBefore()) && p.kind() == PeerRoam.Kind.LOCAL) {
                decide(r, Decision.Event.PROBE_CONFIRMED, "probe confirmed " + format(from) + " (" + p.trigger() + "; "
                        + rtts + ")", "endpoint", fact(from), "trigger", p.trigger(), "rtt_ms", rttFacts(r));
            } else if (from.equals(p.endpointBefore())) {
                r.confirmBackoffNanos = Math.min(CONFIRM_BACKOFF_MAX_NANOS,
                        Math.max(CONFIRM_BACKOFF_MIN_NANOS, 2 * r.confirmBackoffNanos));
                r.noProbeBeforeNanos = now + r.confirmBackoffNanos;
                decide(r, Decision.Event.PROBE_CONFIRMED, "probe confirmed " + format(from) + " (" + p.trigger() + "; "
                        + rtts + "); next probe no sooner than " + r.confirmBackoffNanos / SECOND + " s", "endpoint",
                        fact(from), "trigger", p.trigger(), "rtt_ms", rttFacts(r), "backoff_s",
                        r.confirmBackoffNanos / SECOND);
            } else {
                r.confirmBackoffNanos = 0;
                if (from.getAddress() instanceof Inet6Address) {
                    r.preferredHoldDownNanos = 0;
                } else if (p.targets().stream().anyMatch(a -> a.getAddress() instanceof Inet6Address)) {
                    // IPv6 had a head start and lost: do not try it alone again before a hold-down.
                    r.preferredHoldDownNanos = Math.max(PREFERRED_HOLD_DOWN_MIN_NANOS, r.preferredHoldDownNanos);
                    r.preferredHoldDownUntilNanos = now + r.preferredHoldDownNanos;
                }
                // A new endpoint starts the health checks of anything preferred to it afresh.
                r.healthySinceNanos = 0;
                r.healthyCandidate = null;
                r.checkBackoffNanos = 0;
                r.checkFailureLogged = false;
                r.nextCheckNanos = now + checkInterval(r);
                decide(r, Decision.Event.ENDPOINT_CHANGED, "endpoint " + format(p.endpointBefore()) + " -> "
                        + format(from) + " (" + p.trigger() + "; " + rtts + ")", "from", fact(p.endpointBefore()),
                        "to", fact(from), "trigger", p.trigger(), "rtt_ms", rttFacts(r));
            }
        });
    }

    /**
     * A health check answered. From one of its targets: that entry passes (a run of passes starts, or goes on), and
     * once the run has lasted the hold-down, roaming fails back to it. From anywhere else (the device's current
     * endpoint, say, when the peer answered from its own choice of address) it proves nothing about the targets.
     */
    private void checkAnswered(PeerRoam r, PeerRoam.Probe p, InetSocketAddress from, long now) {
        long interval = checkInterval(r);
        r.checkBackoffNanos = 0;
        r.nextCheckNanos = now + interval;
        if (!p.targets().contains(from)) {
            return;
        }
        r.checkFailureLogged = false;
        long holdDown = r.endpoints.failbackAfterSeconds() * SECOND;
        if (!from.equals(r.healthyCandidate)) {
            r.healthyCandidate = from;
            r.healthySinceNanos = now;
            decide(r, Decision.Event.CHECK_PASSED, format(from) + " answers health checks again; failing back to it"
                    + " if it keeps answering for " + holdDown / SECOND + " s", "endpoint",
                    fact(tunnel.endpoint(r.peer)), "preferred", fact(from), "failback_after_s", holdDown / SECOND);
        }
        if (now - r.healthySinceNanos >= holdDown) {
            // The fail-back probe goes at the next step rather than now: a responder takes at most one initiation
            // per peer every 20 ms (wireguard-go and the kernel alike), and the check's went out just now.
            r.nextCheckNanos = now + FAILBACK_AFTER_CHECK_NANOS;
        }
    }

    @Override
    public void endpointRoamed(Key peer, InetSocketAddress from, InetSocketAddress to) {
        executor.execute(() -> {
            PeerRoam r = peers.get(peer);
            if (r == null) {
                return;
            }
            if (r.probe != null) {
                // The peer answered on its own from a new address: the probe has nothing left to decide.
                r.probe = null;
                r.failedBackoffNanos = 0;
            }
            decide(r, Decision.Event.PEER_ROAMED, "the peer roamed to us: endpoint " + format(from) + " -> "
                    + format(to) + " (authenticated packets from it; kept)", "from", fact(from), "to", fact(to));
        });
    }

    /** What `jwg roam` prints: per peer the host, addresses with TTLs and probe results, endpoint, recent decisions. */
    public String describe() {
        long now = clock.getAsLong();
        StringBuilder sb = new StringBuilder();
        for (PeerRoam r : peers.values()) {
            sb.append("peer ").append(r.peer.toBase64()).append('\n');
            if (r.entries.size() == 1) {
                sb.append("  host: ").append(r.endpoints).append('\n');
            } else {
                sb.append("  endpoints (most preferred first): ").append(r.endpoints).append("; fail-back after ")
                        .append(r.endpoints.failbackAfterSeconds()).append(" s of passed health checks\n");
            }
            sb.append("  endpoint: ").append(format(tunnel.endpoint(r.peer))).append('\n');
            for (EndpointEntry e : r.entries) {
                if (e.dnsError != null) {
                    sb.append("  last resolution of ").append(e.hostPort.host()).append(" failed: ")
                            .append(e.dnsError).append('\n');
                }
            }
            for (Candidate c : r.candidates) {
                sb.append("  address: ").append(c.describe(now)).append('\n');
            }
            if (r.healthyCandidate != null) {
                sb.append("  preferred ").append(format(r.healthyCandidate)).append(" has passed health checks for ")
                        .append((now - r.healthySinceNanos) / SECOND).append(" s\n");
            }
            if (r.probe != null) {
                sb.append(r.probe.kind() == PeerRoam.Kind.CHECK ? "  checking: " : "  probing: ")
                        .append(r.probe.trigger()).append('\n');
            }
            for (Decision d : r.history) {
                sb.append("  ").append(d).append('\n');
            }
        }
        return sb.toString();
    }

    private String rtts(PeerRoam r) {
        List<String> parts = new ArrayList<>();
        for (Candidate c : r.candidates) {
            if (c.lastOkNanos != 0) {
                parts.add(format(c.address) + " " + String.format("%.1f", c.lastRttNanos / 1e6) + " ms");
            }
        }
        return parts.isEmpty() ? "no RTT yet" : "RTT " + String.join(", ", parts);
    }

    /** Records a decision for `jwg roam` and logs it. facts: name, value, name, value, ... */
    private void decide(PeerRoam r, Decision.Event event, String what, Object... facts) {
        Decision d = decision(r.peer, event, what, facts);
        r.record(d);
        log.accept(d);
    }

    /** Logs what roaming does without keeping it in the peer's history (probes sent, a peer unfollowed). */
    private void report(Key peer, Decision.Event event, String what, Object... facts) {
        log.accept(decision(peer, event, what, facts));
    }

    private static Decision decision(Key peer, Decision.Event event, String what, Object... facts) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < facts.length; i += 2) {
            map.put((String) facts[i], facts[i + 1]);
        }
        return new Decision(Instant.now(), peer, event, Collections.unmodifiableMap(map), what);
    }

    /** An address as a fact: as wg show prints it, or null for none. */
    private static String fact(InetSocketAddress a) {
        return a == null ? null : format(a);
    }

    /** The latest handshake RTT of each candidate that answered, in ms. */
    private static Map<String, Double> rttFacts(PeerRoam r) {
        Map<String, Double> rtts = new LinkedHashMap<>();
        for (Candidate c : r.candidates) {
            if (c.lastOkNanos != 0) {
                rtts.put(format(c.address), Math.round(c.lastRttNanos / 1e5) / 10.0);
            }
        }
        return rtts;
    }

    private static List<String> addressesOf(EndpointEntry e) {
        return e.addresses.stream().map(a -> format(new InetSocketAddress(a.address(), e.hostPort.port()))).sorted()
                .toList();
    }

    static String format(InetSocketAddress a) {
        return Addresses.format(a);
    }

    @Override
    public void close() {
        resolver.close();
    }
}
