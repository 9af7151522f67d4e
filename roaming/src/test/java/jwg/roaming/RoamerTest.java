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
        @Override public void probe(Key peer, List<InetSocketAddress> candidates, long delay) {
            probes.add(candidates);
        }
    };

    private final Resolver resolver = new Resolver() {
        @Override
        public CompletableFuture<List<ResolvedAddress>> resolve(String host) {
            resolutions.add(host);
            return dnsDown ? CompletableFuture.failedFuture(new IllegalStateException("SERVFAIL"))
                    : CompletableFuture.completedFuture(List.copyOf(answer));
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
        roamer.setHost(PEER, new HostPort(host, 51820));
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
        roamer.setHost(PEER, new HostPort("peer.test", 51820));
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
}
