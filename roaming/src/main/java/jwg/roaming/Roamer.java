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
 * Keeps the endpoints of peers that have a host name pointing at an address that works, inside the daemon:
 * <ul>
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

    private final Tunnel tunnel;
    private final Resolver resolver;
    private final Consumer<Decision> log;
    private final LongSupplier clock;
    private final ScheduledExecutorService executor;
    private final Map<Key, PeerRoam> peers = new ConcurrentHashMap<>();

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

    /** Gives a peer a host name to follow (replacing any), or with null stops following it. */
    public void setHost(Key peer, HostPort host) {
        executor.execute(() -> {
            PeerRoam old = peers.remove(peer);
            if (host == null) {
                if (old != null) {
                    report(peer, Decision.Event.UNFOLLOWED, "no longer following " + old.host, "host",
                            old.host.toString());
                }
                return;
            }
            PeerRoam r = new PeerRoam(peer, host);
            peers.put(peer, r);
            decide(r, Decision.Event.FOLLOWING, "following host name " + host, "host", host.toString());
        });
    }

    /** Each followed peer's count of failed resolutions so far. Any thread. */
    public void forEachDnsFailures(java.util.function.ObjLongConsumer<Key> each) {
        for (PeerRoam r : peers.values()) {
            each.accept(r.peer, r.dnsFailures);
        }
    }

    public HostPort host(Key peer) {
        PeerRoam r = peers.get(peer);
        return r == null ? null : r.host;
    }

    /** Runs one scheduling step now (tests drive the roamer with it and a manual clock). */
    void tick() {
        long now = clock.getAsLong();
        for (PeerRoam r : peers.values()) {
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
        if (!r.resolving && now - r.nextResolveNanos >= 0) {
            resolve(r, r.resolvedNanos == 0 ? "first resolution" : "TTL expired", false);
        }
        if (r.probe != null) {
            if (now - r.probe.startedNanos() > PROBE_TIMEOUT_NANOS) {
                probeFailed(r, now);
            }
            return;
        }
        String suspicion = suspicion(r, now);
        if (suspicion != null) {
            if (now - r.noProbeBeforeNanos >= 0 && !r.resolving) {
                // One resolution at a time: while one is in flight, its completion starts the probe.
                if (now - r.resolvedNanos > SECOND) {
                    resolve(r, suspicion, true);
                } else {
                    probe(r, now, all(r), suspicion, false);
                }
            }
            return;
        }
        InetSocketAddress current = tunnel.endpoint(r.peer);
        if (current != null && !(current.getAddress() instanceof Inet6Address)
                && now - r.preferredHoldDownUntilNanos >= 0 && now - r.noProbeBeforeNanos >= 0) {
            List<InetSocketAddress> v6 = new ArrayList<>();
            for (Candidate c : r.candidates) {
                if (c.ipv6()) {
                    v6.add(c.address);
                }
            }
            if (!v6.isEmpty()) {
                probe(r, now, v6, "on IPv4 while the name has IPv6 addresses: trying IPv6", true);
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

    private List<InetSocketAddress> all(PeerRoam r) {
        List<InetSocketAddress> ordered = new ArrayList<>();
        for (Candidate c : r.candidates) {
            if (c.ipv6()) {
                ordered.add(c.address);
            }
        }
        for (Candidate c : r.candidates) {
            if (!c.ipv6()) {
                ordered.add(c.address);
            }
        }
        return ordered;
    }

    private void resolve(PeerRoam r, String trigger, boolean thenProbe) {
        r.resolving = true;
        resolver.resolve(r.host.host()).whenComplete((addresses, error) -> executor.execute(() -> {
            long now = clock.getAsLong();
            r.resolving = false;
            if (error != null || addresses == null || addresses.isEmpty()) {
                r.dnsFailures++;
                long ceiling = r.candidates.isEmpty() ? DNS_RETRY_UNRESOLVED_MAX_NANOS : DNS_RETRY_MAX_NANOS;
                r.dnsRetryNanos = Math.min(ceiling, Math.max(DNS_RETRY_MIN_NANOS, 2 * r.dnsRetryNanos));
                r.nextResolveNanos = now + r.dnsRetryNanos;
                String why = error == null ? "no addresses" : String.valueOf(error.getMessage());
                if (!why.equals(r.dnsError)) {
                    decide(r, Decision.Event.DNS_FAILED, "resolving " + r.host.host() + " failed (" + why + "); "
                            + (r.candidates.isEmpty()
                                    ? "no address known yet, retrying at least every " + ceiling / SECOND + " s"
                                    : "keeping " + r.candidates.size() + " known address(es), retrying with back-off"),
                            "host", r.host.host(), "error", why, "known_addresses", r.candidates.size(),
                            "retry_s", r.dnsRetryNanos / SECOND);
                }
                r.dnsError = why;
            } else {
                r.dnsError = null;
                r.dnsRetryNanos = 0;
                long ttl = Long.MAX_VALUE;
                List<Candidate> fresh = new ArrayList<>();
                for (ResolvedAddress a : addresses) {
                    InetSocketAddress sa = new InetSocketAddress(a.address(), r.host.port());
                    Candidate known = r.candidate(sa);
                    Candidate c = known != null ? known : new Candidate(sa, a.ttlSeconds());
                    c.ttlSeconds = a.ttlSeconds();
                    if (!fresh.contains(c)) {
                        fresh.add(c);
                    }
                    ttl = Math.min(ttl, a.ttlSeconds() * SECOND);
                }
                List<String> before = addressesOf(r.candidates);
                r.candidates = fresh;
                r.resolvedNanos = now;
                r.nextResolveNanos = now + Math.max(MIN_TTL_NANOS, Math.min(MAX_TTL_NANOS, ttl));
                List<String> after = addressesOf(fresh);
                if (!before.equals(after)) {
                    decide(r, Decision.Event.RESOLVED, r.host.host() + " resolves to " + String.join(", ", after)
                            + " (" + trigger + ")", "host", r.host.host(), "addresses", after, "trigger", trigger);
                }
            }
            if (thenProbe && r.probe == null && !r.candidates.isEmpty()) {
                probe(r, now, all(r), trigger, false);
            }
        }));
    }

    private void probe(PeerRoam r, long now, List<InetSocketAddress> targets, String trigger, boolean preferredOnly) {
        r.probe = new PeerRoam.Probe(now, List.copyOf(targets), trigger, preferredOnly, tunnel.endpoint(r.peer));
        List<String> names = targets.stream().map(Roamer::format).toList();
        report(r.peer, Decision.Event.PROBING, "probing " + String.join(", ", names) + " (" + trigger + ")",
                "targets", names, "trigger", trigger);
        tunnel.probe(r.peer, targets, HAPPY_EYEBALLS_DELAY_NANOS);
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
        if (p.preferredOnly()) {
            r.preferredHoldDownNanos = Math.min(PREFERRED_HOLD_DOWN_MAX_NANOS,
                    Math.max(PREFERRED_HOLD_DOWN_MIN_NANOS, 2 * r.preferredHoldDownNanos));
            r.preferredHoldDownUntilNanos = now + r.preferredHoldDownNanos;
            InetSocketAddress current = tunnel.endpoint(r.peer);
            decide(r, Decision.Event.PREFERRED_FAILED, "IPv6 did not answer; staying on " + format(current)
                    + ", next IPv6 try in " + r.preferredHoldDownNanos / SECOND + " s", "endpoint", fact(current),
                    "hold_down_s", r.preferredHoldDownNanos / SECOND);
        } else {
            r.failedBackoffNanos = Math.min(FAILED_BACKOFF_MAX_NANOS, Math.max(SECOND, 2 * r.failedBackoffNanos));
            r.noProbeBeforeNanos = now + r.failedBackoffNanos;
            decide(r, Decision.Event.PROBE_FAILED, "no candidate answered (" + p.trigger() + "); next probe in "
                    + r.failedBackoffNanos / SECOND + " s", "trigger", p.trigger(), "retry_s",
                    r.failedBackoffNanos / SECOND);
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
            r.failedBackoffNanos = 0;
            String rtts = rtts(r);
            if (from.equals(p.endpointBefore())) {
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
                decide(r, Decision.Event.ENDPOINT_CHANGED, "endpoint " + format(p.endpointBefore()) + " -> "
                        + format(from) + " (" + p.trigger() + "; " + rtts + ")", "from", fact(p.endpointBefore()),
                        "to", fact(from), "trigger", p.trigger(), "rtt_ms", rttFacts(r));
            }
        });
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
            sb.append("  host: ").append(r.host).append('\n');
            sb.append("  endpoint: ").append(format(tunnel.endpoint(r.peer))).append('\n');
            if (r.dnsError != null) {
                sb.append("  last resolution failed: ").append(r.dnsError).append('\n');
            }
            for (Candidate c : r.candidates) {
                sb.append("  address: ").append(c.describe(now)).append('\n');
            }
            if (r.probe != null) {
                sb.append("  probing: ").append(r.probe.trigger()).append('\n');
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

    private static List<String> addressesOf(List<Candidate> cs) {
        return cs.stream().map(c -> format(c.address)).sorted().toList();
    }

    static String format(InetSocketAddress a) {
        return Addresses.format(a);
    }

    @Override
    public void close() {
        resolver.close();
    }
}
