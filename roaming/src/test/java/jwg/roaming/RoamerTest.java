package jwg.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import jwg.noise.Key;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The roaming policy, driven step by step with a manual clock, a scripted resolver and a recording tunnel. */
class RoamerTest {
    private static final long S = 1_000_000_000L;
    private static final Key PEER = Key.of(new byte[32]);
    private static final int TICKS_PER_SECOND = (int) (S / Roamer.TICK_NANOS);

    private long now = 1000 * S;
    private final List<List<InetSocketAddress>> probes = new ArrayList<>();
    private final List<List<List<InetSocketAddress>>> probeWaves = new ArrayList<>();
    private final List<List<InetSocketAddress>> checks = new ArrayList<>();
    /** Answers by host name, for peers with an endpoint list; other names get {@link #answer}. */
    private final java.util.Map<String, List<ResolvedAddress>> answers = new java.util.HashMap<>();
    private final List<String> log = new ArrayList<>();
    private final List<Decision> decisions = new ArrayList<>();
    private final List<String> resolutions = new ArrayList<>();
    private List<ResolvedAddress> answer = new ArrayList<>();
    private boolean dnsDown;
    private InetSocketAddress endpoint;
    private long lastTx;
    private long firstUnanswered;
    private long pathRtt;
    private boolean hasPeer = true;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor();

    private final Tunnel tunnel = new Tunnel() {
        @Override public boolean hasPeer(Key peer) { return hasPeer; }
        @Override public InetSocketAddress endpoint(Key peer) { return endpoint; }
        @Override public long lastDataSentNanos(Key peer) { return lastTx; }
        @Override public long firstUnansweredDataNanos(Key peer) { return firstUnanswered; }
        @Override public long pathRttNanos(Key peer) { return pathRtt; }
        @Override public void probe(Key peer, List<List<InetSocketAddress>> waves, long delay) {
            probes.add(waves.stream().flatMap(List::stream).toList());
            probeWaves.add(waves);
        }
        @Override public void check(Key peer, List<InetSocketAddress> targets) {
            checks.add(targets);
        }
    };

    private final Resolver resolver = new Resolver() {
        @Override
        public CompletableFuture<List<ResolvedAddress>> resolve(String host) {
            resolutions.add(host);
            return dnsDown ? CompletableFuture.failedFuture(new IllegalStateException("SERVFAIL"))
                    : CompletableFuture.completedFuture(List.copyOf(answers.getOrDefault(host, answer)));
        }

        @Override
        public void close() { }
    };

    private final Roamer roamer = new Roamer(tunnel, resolver, d -> {
        decisions.add(d);
        log.add(d.what());
    }, () -> now, thread);

    @AfterEach
    void stop() {
        thread.shutdownNow();
    }

    private static InetSocketAddress at(String ip) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), 51820);
    }

    private void dns(long ttl, String... ips) throws Exception {
        answer = new ArrayList<>();
        for (String ip : ips) {
            answer.add(new ResolvedAddress(InetAddress.getByName(ip), ttl));
        }
    }

    /** Runs queued work and one tick on the roamer's own thread, and waits for what that queued in turn. */
    private void tick() throws Exception {
        thread.submit(() -> { }).get();
        thread.submit(roamer::tick).get();
        thread.submit(() -> { }).get();
        thread.submit(() -> { }).get();
    }

    private void start(String host, String endpointIp) throws Exception {
        endpoint = at(endpointIp);
        roamer.setEndpoints(PEER, Endpoints.of(new HostPort(host, 51820)));
        tick();
    }

    /** Traffic flows both ways at now. */
    private void healthy() {
        lastTx = now;
        firstUnanswered = 0;
    }

    /** Data is being sent but nothing has come back for silentNanos. */
    private void silentFor(long silentNanos) {
        lastTx = now;
        firstUnanswered = now - silentNanos + 1;
    }

    private void answered(InetSocketAddress from) throws Exception {
        endpoint = from;
        roamer.handshakeCompleted(PEER, from, 2_000_000);
        tick();
    }

    @Test
    void theHostIsResolvedAtOnceAndAgainWhenItsTtlExpires() throws Exception {
        dns(60, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        assertEquals(1, resolutions.size());
        now += 59 * S;
        healthy();
        tick();
        assertEquals(1, resolutions.size(), "not before the TTL");
        now += 2 * S;
        healthy();
        tick();
        assertEquals(2, resolutions.size(), "after the TTL");
        assertTrue(probes.isEmpty(), "a healthy path is never probed");
    }

    @Test
    void aTinyTtlIsClampedSoDnsIsNotHammered() throws Exception {
        dns(0, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        for (int i = 0; i < 10 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            tick();
        }
        assertEquals(3, resolutions.size(), "10 s at a minimum of 5 s between resolutions: " + resolutions);
    }

    @Test
    void aSilentPathIsReResolvedAndEveryCandidateProbedIpv6First() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        dns(300, "192.0.2.9", "2001:db8::9");
        now += 10 * S;
        silentFor(Roamer.SUSPECT_AFTER_NANOS + 100_000_000);
        tick();
        assertEquals(2, resolutions.size(), "re-resolved at once");
        assertEquals(List.of(at("2001:db8::9"), at("192.0.2.9")), probes.get(0));
        answered(at("192.0.2.9"));
        assertTrue(log.stream().anyMatch(l -> l.contains("endpoint 192.0.2.1:51820 -> 192.0.2.9:51820")), log.toString());
    }

    @Test
    void withARoundTripKnownAPathIsSuspectedAfterAFewOfThemAndNoSooner() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        now += 10 * S;
        silentFor(Roamer.SUSPECT_FLOOR_NANOS + 100_000_000);
        tick();
        assertTrue(probes.isEmpty(), "no round trip known yet: the 1.5 s rule");

        pathRtt = 300_000_000; // a 300 ms path
        now += 10 * S;
        silentFor(1_100_000_000);
        tick();
        assertTrue(probes.isEmpty(), "4 round trips of 300 ms: not yet");
        silentFor(1_300_000_000);
        tick();
        assertEquals(1, probes.size(), "after 4 round trips");
        answered(at("192.0.2.1"));

        pathRtt = 2_000_000; // a 2 ms path: the floor decides
        now += 120 * S;
        silentFor(Roamer.SUSPECT_FLOOR_NANOS - 50_000_000);
        tick();
        assertEquals(1, probes.size(), "under the floor");
        silentFor(Roamer.SUSPECT_FLOOR_NANOS + 150_000_000);
        tick();
        assertEquals(2, probes.size(), "over the floor: " + log);
        assertTrue(log.stream().anyMatch(l -> l.contains("sent data for 649 ms with nothing back (limit 500 ms)")), log.toString());
    }

    @Test
    void aLastPacketThatNothingAnswersIsNoEvidence() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        pathRtt = 1_000_000;
        // Our reply to the peer's last ping: sent once, answered by nothing, and traffic stops.
        now += 10 * S;
        lastTx = now;
        firstUnanswered = now;
        for (int i = 0; i < 5 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            tick();
        }
        assertTrue(probes.isEmpty(), "probes: " + probes);
    }

    @Test
    void aSparseSenderThatIsAnsweredEachTimeIsNeverSuspected() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        pathRtt = 1_000_000;
        // One packet every 2 s, answered 50 ms later, for 2 minutes: between them nothing is owed.
        for (int i = 0; i < 60; i++) {
            now += 2 * S;
            lastTx = now;
            firstUnanswered = now;
            tick();
            now += 50_000_000;
            firstUnanswered = 0;
            tick();
        }
        assertTrue(probes.isEmpty(), "probes: " + probes);
    }

    @Test
    void aShortSilenceIsNotSuspicious() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        now += 10 * S;
        silentFor(Roamer.SUSPECT_AFTER_NANOS - 100_000_000);
        tick();
        assertTrue(probes.isEmpty());
    }

    @Test
    void aProbeThatConfirmsTheCurrentEndpointBacksOffFurtherProbes() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        List<Long> probeTimes = new ArrayList<>();
        for (int i = 0; i < 40 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            silentFor(2 * S);
            int before = probes.size();
            tick();
            if (probes.size() > before) {
                probeTimes.add(now);
                answered(at("192.0.2.1"));
            }
        }
        assertTrue(probeTimes.size() >= 3, probeTimes.toString());
        assertTrue(probeTimes.get(1) - probeTimes.get(0) >= 5 * S, "first back-off 5 s");
        assertTrue(probeTimes.get(2) - probeTimes.get(1) >= 10 * S, "then 10 s");
    }

    @Test
    void onIpv4ItTriesIpv6AloneAndHoldsOffLongerAfterEachFailure() throws Exception {
        dns(3600, "192.0.2.1", "2001:db8::1");
        start("peer.test", "192.0.2.1");
        List<Long> tries = new ArrayList<>();
        for (int i = 0; i < 200 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            int before = probes.size();
            tick();
            if (probes.size() > before) {
                assertEquals(List.of(at("2001:db8::1")), probes.get(probes.size() - 1), "IPv6 only");
                tries.add(now);
            }
        }
        assertEquals(at("192.0.2.1"), endpoint, "never left the working IPv4 path");
        assertTrue(tries.size() >= 3, tries.toString());
        long first = tries.get(1) - tries.get(0);
        long second = tries.get(2) - tries.get(1);
        assertTrue(first >= Roamer.PREFERRED_HOLD_DOWN_MIN_NANOS, "hold-down " + first / S + " s");
        assertTrue(second >= 2 * Roamer.PREFERRED_HOLD_DOWN_MIN_NANOS, "doubled: " + second / S + " s");
    }

    @Test
    void whenIpv6AnswersItIsUsedAndStaysWithoutFlapping() throws Exception {
        dns(3600, "192.0.2.1", "2001:db8::1");
        start("peer.test", "192.0.2.1");
        now += Roamer.TICK_NANOS;
        healthy();
        tick();
        assertEquals(1, probes.size());
        answered(at("2001:db8::1"));
        for (int i = 0; i < 120 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            tick();
        }
        assertEquals(1, probes.size(), "no more probes on a healthy preferred path");
        assertEquals(1, log.stream().filter(l -> l.contains(" -> ")).count(), log.toString());
    }

    @Test
    void aDnsFailureKeepsTheKnownAddressesAndRetriesWithBackOff() throws Exception {
        dns(5, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        dnsDown = true;
        for (int i = 0; i < 30 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            tick();
        }
        int attempts = resolutions.size() - 1;
        assertTrue(attempts >= 4 && attempts <= 7, "back-off 1, 2, 4, 8, 16 s over 30 s: " + attempts);
        assertTrue(probes.isEmpty(), "a working tunnel is left alone");
        assertTrue(roamer.describe().contains("192.0.2.1:51820"), "the last addresses are kept");
        assertEquals(1, log.stream().filter(l -> l.contains("failed")).count(), "the failure is logged once");
    }

    @Test
    void aNameThatDoesNotResolveAtStartIsRetriedOftenAndProbedOnceItDoes() throws Exception {
        // #jwg: Endpoint: the peer has no endpoint, and DNS is down as the interface comes up.
        dnsDown = true;
        endpoint = null;
        roamer.setEndpoints(PEER, Endpoints.of(new HostPort("peer.test", 51820)));
        tick();
        for (int i = 0; i < 60 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            tick();
        }
        int attempts = resolutions.size();
        // 1, 2, 4, then every 5 s: 1 + 3 + 11 over the minute, not the 6 of a name that resolved before.
        assertTrue(attempts >= 13 && attempts <= 16, "retries in 60 s: " + attempts);
        assertTrue(probes.isEmpty(), "nothing to probe without an address");
        assertEquals(1, log.stream().filter(l -> l.contains("failed") && l.contains("no address known yet")).count(),
                "the failure is logged once, saying there is no address yet");

        dnsDown = false;
        dns(60, "192.0.2.1", "2001:db8::1");
        for (int i = 0; i < 5 * TICKS_PER_SECOND && probes.isEmpty(); i++) {
            now += Roamer.TICK_NANOS;
            tick();
        }
        assertEquals(List.of(List.of(at("2001:db8::1"), at("192.0.2.1"))), probes, "probed once it resolved");
        answered(at("2001:db8::1"));
        assertTrue(log.stream().anyMatch(l -> l.contains("endpoint (none) -> [2001:db8::1]:51820")), log.toString());

        // The same as data, for JWG_LOG_FORMAT=json.
        Decision failed = decisions.stream().filter(d -> d.event() == Decision.Event.DNS_FAILED).findFirst()
                .orElseThrow();
        assertEquals(PEER, failed.peer());
        assertEquals("peer.test", failed.facts().get("host"));
        assertEquals(0, failed.facts().get("known_addresses"));
        Decision changed = decisions.stream().filter(d -> d.event() == Decision.Event.ENDPOINT_CHANGED).findFirst()
                .orElseThrow();
        java.util.Map<String, Object> expected = new java.util.LinkedHashMap<>();
        expected.put("from", null);
        expected.put("to", "[2001:db8::1]:51820");
        expected.put("trigger", "no endpoint");
        expected.put("rtt_ms", java.util.Map.of("[2001:db8::1]:51820", 2.0));
        assertEquals(expected, changed.facts());
        assertEquals("endpoint_changed", changed.event().jsonName());
    }

    @Test
    void aPeerThatRoamedToUsIsFollowedNotUndone() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        endpoint = at("198.51.100.7");
        roamer.endpointRoamed(PEER, at("192.0.2.1"), endpoint);
        for (int i = 0; i < 60 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            tick();
        }
        assertTrue(probes.isEmpty());
        assertEquals(at("198.51.100.7"), endpoint);
        assertTrue(log.stream().anyMatch(l -> l.contains("roamed to us")), log.toString());
    }

    @Test
    void aPeerWithoutAHostNameIsNeverTouched() throws Exception {
        endpoint = at("192.0.2.1");
        for (int i = 0; i < 10 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            silentFor(10 * S);
            tick();
        }
        assertTrue(probes.isEmpty() && resolutions.isEmpty());
    }

    @Test
    void whenNoCandidateAnswersItRetriesWithBackOff() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        List<Long> tries = new ArrayList<>();
        for (int i = 0; i < 40 * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            silentFor(5 * S);
            int before = probes.size();
            tick();
            if (probes.size() > before) {
                tries.add(now);
            }
        }
        assertTrue(tries.size() >= 3 && tries.size() <= 8, tries.size() + " probes in 40 s");
        assertTrue(tries.get(2) - tries.get(1) > tries.get(1) - tries.get(0), "spacing grows");
    }

    // ---- endpoint lists ----

    private static final long HOLD_DOWN_S = 20;

    /** A peer with the list "primary.test, backup.test" (one IPv4 address each), on the primary, healthy. */
    private void startList() throws Exception {
        answers.put("primary.test", List.of(new ResolvedAddress(InetAddress.getByName("192.0.2.1"), 300)));
        answers.put("backup.test", List.of(new ResolvedAddress(InetAddress.getByName("198.51.100.1"), 300)));
        endpoint = at("192.0.2.1");
        roamer.setEndpoints(PEER, Endpoints.parse("primary.test:51820, backup.test:51820", HOLD_DOWN_S));
        tick();
    }

    /** {@link #startList}, then the primary goes silent and the backup answers the probe. */
    private void startListAndFailOver() throws Exception {
        startList();
        now += S;
        silentFor(2 * S);
        tick();
        tick();
        answered(at("198.51.100.1"));
        probes.clear();
    }

    /** Runs the roamer for seconds of healthy traffic; checks are answered by answerer (null: not answered). */
    private void runHealthy(long seconds, java.util.function.Function<List<InetSocketAddress>, InetSocketAddress>
            answerer) throws Exception {
        for (long i = 0; i < seconds * TICKS_PER_SECOND; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            int before = checks.size();
            tick();
            if (checks.size() > before) {
                InetSocketAddress from = answerer.apply(checks.get(checks.size() - 1));
                if (from != null) {
                    roamer.handshakeCompleted(PEER, from, 3_000_000); // a check: the endpoint stays
                    tick();
                }
            }
        }
    }

    @Test
    void aListFailsOverToTheNextEntryInWavesOfPreference() throws Exception {
        startList();
        assertEquals(List.of("primary.test", "backup.test"), resolutions, "every name is resolved");
        now += S;
        silentFor(2 * S);
        tick();
        tick();
        assertEquals(List.of(List.of(List.of(at("192.0.2.1")), List.of(at("198.51.100.1")))), probeWaves,
                "the primary first, the backup a head start later");
        answered(at("198.51.100.1"));
        assertTrue(log.stream().anyMatch(l -> l.contains("endpoint 192.0.2.1:51820 -> 198.51.100.1:51820")),
                log.toString());
    }

    @Test
    void aListFailsBackOnceThePreferredEntryHasPassedChecksForTheHoldDown() throws Exception {
        startListAndFailOver();

        // The primary is still down: checks go unanswered and back off; nothing moves.
        runHealthy(60, targets -> null);
        int failedChecks = checks.size();
        assertTrue(failedChecks >= 3 && failedChecks <= 8, "checks while the primary is down: " + checks);
        List<InetSocketAddress> primary = List.of(at("192.0.2.1"));
        assertTrue(checks.stream().allMatch(primary::equals), checks.toString());
        assertTrue(probes.isEmpty(), "no probe while the backup works: " + probes);
        assertEquals(1, decisions.stream().filter(d -> d.event() == Decision.Event.CHECK_FAILED).count(),
                "the failing checks are logged once: " + log);

        // The primary returns: it must answer checks for the whole hold-down before the fail-back probe.
        long back = now;
        checks.clear();
        runHealthy(HOLD_DOWN_S + 70, targets -> probes.isEmpty() ? targets.get(0) : null);
        assertEquals(1, probes.size(), "one fail-back probe: " + probes + "\n" + log);
        assertEquals(List.of(at("192.0.2.1")), probes.get(0));
        Decision passed = decisions.stream().filter(d -> d.event() == Decision.Event.CHECK_PASSED).findFirst()
                .orElseThrow();
        assertEquals("192.0.2.1:51820", passed.facts().get("preferred"));
        assertTrue(checks.size() >= 4, "the hold-down is about four checks: " + checks.size());
        assertEquals(at("198.51.100.1"), endpoint, "checks never moved the endpoint");
    }

    @Test
    void failingBackHappensOnlyAfterTheHoldDownAndThenStaysPut() throws Exception {
        startListAndFailOver();
        long failedOverAt = now;
        // The primary answers every check from the start.
        long probedAt = 0;
        long lastCheckAt = 0;
        for (long i = 0; i < 2 * HOLD_DOWN_S * TICKS_PER_SECOND && probedAt == 0; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            int before = checks.size();
            tick();
            if (checks.size() > before) {
                lastCheckAt = now;
                roamer.handshakeCompleted(PEER, at("192.0.2.1"), 3_000_000);
                tick();
            }
            if (!probes.isEmpty()) {
                probedAt = now;
            }
        }
        assertTrue(probedAt != 0, "failed back: " + log);
        // A responder takes one initiation per peer per 20 ms: the fail-back must not follow the check at once.
        assertTrue(probedAt - lastCheckAt >= 20_000_000L, "fail-back " + (probedAt - lastCheckAt) / 1e6
                + " ms after the last check");
        long firstCheckPassedAt = failedOverAt + Roamer.CHECK_INTERVAL_MIN_NANOS; // at the earliest
        assertTrue(probedAt - firstCheckPassedAt >= HOLD_DOWN_S * S - S,
                "not before the hold-down: " + (probedAt - failedOverAt) / 1e9 + " s after failing over");
        answered(at("192.0.2.1"));
        assertTrue(log.stream().anyMatch(l -> l.contains("endpoint 198.51.100.1:51820 -> 192.0.2.1:51820")
                && l.contains("fail-back")), log.toString());

        // Both healthy for minutes on the primary: no check, no probe, no change.
        checks.clear();
        probes.clear();
        int decided = decisions.size();
        runHealthy(300, targets -> targets.get(0));
        assertTrue(checks.isEmpty() && probes.isEmpty(), "checks " + checks + ", probes " + probes);
        assertTrue(decisions.subList(decided, decisions.size()).stream()
                .noneMatch(d -> d.event() == Decision.Event.ENDPOINT_CHANGED), log.toString());
    }

    @Test
    void aCheckThatFailsDuringTheHoldDownStartsItAgain() throws Exception {
        startList();
        endpoint = at("198.51.100.1"); // wg set the backup, say
        int[] n = {0};
        // Passes, passes, fails, then passes: the run starts again at the fourth.
        runHealthy(HOLD_DOWN_S + 10, targets -> ++n[0] == 3 ? null : targets.get(0));
        assertTrue(probes.isEmpty(), "a broken run delays the fail-back: " + probes + "\n" + log);
        assertEquals(2, decisions.stream().filter(d -> d.event() == Decision.Event.CHECK_PASSED).count(), log.toString());
        runHealthy(HOLD_DOWN_S + 30, targets -> targets.get(0));
        assertTrue(!probes.isEmpty() && probes.get(0).equals(List.of(at("192.0.2.1"))), "then it fails back: " + log);
    }

    @Test
    void anAddressThePeerRoamedToOnItsOwnIsNotFailedBackFrom() throws Exception {
        startList();
        endpoint = at("203.0.113.9");
        roamer.endpointRoamed(PEER, at("192.0.2.1"), endpoint);
        runHealthy(120, targets -> targets.get(0));
        assertTrue(checks.isEmpty() && probes.isEmpty(), "checks " + checks + ", probes " + probes);
    }

    @Test
    void literalAddressesInAListNeedNoDns() throws Exception {
        endpoint = at("192.0.2.1");
        roamer.setEndpoints(PEER, Endpoints.parse("192.0.2.1:51820, [2001:db8::7]:51820", HOLD_DOWN_S));
        tick();
        now += S;
        silentFor(2 * S);
        tick();
        assertTrue(resolutions.isEmpty(), resolutions.toString());
        assertEquals(List.of(List.of(List.of(at("192.0.2.1")), List.of(at("2001:db8::7")))), probeWaves);
    }

    // ---- local network changes ----

    @Test
    void aLocalChangeProbesAtOnceAfterItsBurstAndIsRateLimited() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        healthy();
        roamer.localNetworkChanged("address 10.0.1.1/24 removed (ifindex 3)");
        roamer.localNetworkChanged("address 10.0.2.1/24 added (ifindex 4)");
        tick();
        assertTrue(probes.isEmpty(), "not before the burst has settled");
        now += Roamer.LOCAL_CHANGE_SETTLE_NANOS;
        healthy();
        tick();
        tick();
        assertEquals(1, probes.size(), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("local network changed: address 10.0.1.1/24 removed"
                + " (ifindex 3); address 10.0.2.1/24 added (ifindex 4)")), log.toString());
        answered(at("192.0.2.1"));
        // A second burst within the rate limit waits for it, even though the probe's confirmation backs off probes.
        roamer.localNetworkChanged("route default via 10.0.2.254 added (ifindex 4)");
        for (int i = 0; i < 3 * TICKS_PER_SECOND && probes.size() == 1; i++) {
            now += Roamer.TICK_NANOS;
            healthy();
            tick();
        }
        assertEquals(2, probes.size(), "the second change is acted on, later: " + log);
        assertTrue(now - 1000 * S >= Roamer.LOCAL_CHANGE_MIN_INTERVAL_NANOS, "not within the rate limit");
    }

    @Test
    void aLocalChangesProbeThatConfirmsTheEndpointDoesNotDelayTheNextSuspicion() throws Exception {
        dns(300, "192.0.2.1");
        start("peer.test", "192.0.2.1");
        healthy();
        roamer.localNetworkChanged("link eth1 (ifindex 4) up");
        tick(); // the change is noted at this time
        now += Roamer.LOCAL_CHANGE_SETTLE_NANOS;
        healthy();
        tick();
        tick();
        assertEquals(1, probes.size(), log.toString());
        answered(at("192.0.2.1"));
        // The path dies a second later: probed as soon as it is suspect, not after a confirmation's back-off.
        now += S;
        silentFor(2 * S);
        tick();
        tick();
        assertEquals(2, probes.size(), log.toString());
    }
}
