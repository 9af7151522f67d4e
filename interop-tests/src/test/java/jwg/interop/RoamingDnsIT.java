package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Roaming that follows DNS and reachability (issue 4), end to end: jwg (a) follows the host name peer.test of its peer
 * b, wireguard-go or (scenarios 1, 2, 3 and 6b) the kernel's WireGuard, which a real DNS server (dnsmasq in a third
 * namespace, {@link DnsServer}) resolves, while {@link ContinuousPing} sends through the tunnel every 100 ms. Host
 * names reach jwg as a user gives them: through {@code jwg roam IF PUBKEY HOST:PORT}, through the config file named
 * by JWG_CONFIG, and through the default /etc/wireguard/IF.conf (the last two brought up by the stock wg-quick).
 *
 * <p>Each test asserts the outcome (where the endpoint ends up, how many times it changed according to the decisions
 * jwg logs at info level, traffic flowing again) and records the recovery time in target/roaming-recovery.txt:
 * from the event that kills the path to the first reply to a ping sent after it. No assertion depends on how long
 * recovery took; the timeouts are only there so that a broken build fails instead of hanging.
 *
 * <p>Where b moves (1, 3, 4, 4b), a is behind a stateful firewall ({@link Node#behindStatefulFirewall}), as behind a
 * NAT: otherwise wireguard-go, once its own 15 s handshake timer clears its dead source address, re-initiates from its
 * new address and a follows by built-in roaming, which would hide what roaming/ does. Scenario 6 is that case.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RoamingDnsIT {
    /** The scenarios' tag: jwg's own roaming, which interop-tests/run adds to the matrix when it tests jwg. */
    static final String TAG = "roaming";
    private static final String HOST = "peer.test";
    /** Where scenario 8's relay listens for a, on b's address. */
    private static final int JITTER_RELAY_PORT = 51900;
    private static final Pattern ENDPOINT_CHANGE = Pattern.compile("endpoint (\\S+) -> (\\S+)");
    private static final FigureLog RESULTS = new FigureLog("RoamingDnsIT", "roaming-recovery.txt");
    /**
     * How long scenario 5 watches two healthy paths (system property jwg.roaming.steadySeconds): two minutes in the
     * full run, 45 s (four and a half TTLs) in CI.
     */
    private static final int STEADY_SECONDS = Integer.getInteger("jwg.roaming.steadySeconds",
            Environment.FULL ? 120 : 45);
    /** How long scenario 9 watches both entries healthy after failing back (jwg.roaming.listSteadySeconds). */
    private static final int LIST_STEADY_SECONDS = Integer.getInteger("jwg.roaming.listSteadySeconds", 30);

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("dnsmasq");
        Environment.requireTool("stdbuf");
        Environment.requireTool("iptables");
        Environment.requireTool("ip6tables");
        Environment.requireTool("python3");
    }

    /** 1. b moves to a new IPv4 address, DNS has it first, then the old address dies: a follows the name to it. */
    @Tag(TAG)
    @DisplayName("roaming 1: b moves, DNS has its new address first")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("movingPeers")
    void thePeerMovesAndDnsHasItsNewAddress(Implementation peer) {
        try (Roam r = Roam.create(peer, 2, "10.99.0.2")) {
            r.a.behindStatefulFirewall();
            r.startB();
            r.startAWithRoamCommand("10.99.0.2");
            String state = r.jwg("roam", r.a.ifname).orFail("jwg roam " + r.a.ifname).out();
            assertTrue(state.contains("host: peer.test:51821") && state.contains("endpoint: 10.99.0.2:51821")
                    && state.contains("address: 10.99.0.2:51821 ttl 2s"), "jwg roam shows the state:\n" + state);

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                r.dns.serve(HOST, "10.99.0.12");
                int mark = r.decisions().size();
                long dead = r.moveB("10.99.0.2", "10.99.0.12");
                double recovery = r.awaitRecovery(ping, dead, 60);
                sleep(3000);

                assertEquals("10.99.0.12:51821", r.endpoint(), "a's endpoint for b after the move");
                assertEquals(List.of("10.99.0.2:51821 -> 10.99.0.12:51821"), r.endpointChanges(mark),
                        "endpoint changes after the move:\n" + r.decisionsText(mark));
                r.record("1 move, DNS updated", recovery, ping.longestGap(dead - 1000, System.currentTimeMillis()),
                        "via jwg roam");
            }
        }
    }

    /**
     * 2. b has A and AAAA records; a prefers IPv6. IPv6 is blackholed: a falls back to IPv4. IPv6 returns: a moves
     * back once IPv6 answers again (after its hold-down, 30 s at least), exactly once.
     */
    @Tag(TAG)
    @DisplayName("roaming 2: IPv6 blackholed, a falls back to IPv4 and returns once healthy")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("movingPeers")
    void ipv6BlackholedFallsBackToIpv4AndReturnsOnceHealthy(Implementation peer) {
        try (Roam r = Roam.create(peer, 2, "fd99::2", "10.99.0.2")) {
            r.startB();
            int start = r.decisions().size();
            r.startAWithRoamCommand("10.99.0.2");
            // The endpoint moves when the response arrives; the decision is logged by the roaming thread just after.
            assertTrue(Shell.eventually(30, () -> "[fd99::2]:51821".equals(r.endpoint())
                            && !r.endpointChanges(start).isEmpty()),
                    "a never moved to b's IPv6 address by preference:\n" + r.decisionsText(start));
            assertEquals(List.of("10.99.0.2:51821 -> [fd99::2]:51821"), r.endpointChanges(start),
                    "endpoint changes before the blackhole:\n" + r.decisionsText(start));

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                long dead = System.currentTimeMillis();
                r.blackholeIpv6("-A");
                double fallback = r.awaitRecovery(ping, dead, 60);
                assertTrue(Shell.eventually(10, () -> "10.99.0.2:51821".equals(r.endpoint())),
                        "a's endpoint after the IPv6 blackhole: " + r.endpoint() + "\n" + r.decisionsText(mark));
                long fellBack = System.currentTimeMillis();
                // Long enough for a's first attempt to go back to IPv6 to fail: it then waits out its hold-down.
                sleep(5000);

                int backMark = r.decisions().size();
                long healed = System.currentTimeMillis();
                r.blackholeIpv6("-D");
                assertTrue(Shell.eventually(120, () -> "[fd99::2]:51821".equals(r.endpoint())),
                        "a did not move back to IPv6 within 120 s of its return:\n" + r.decisionsText(mark));
                double back = (System.currentTimeMillis() - healed) / 1e3;
                long returned = System.currentTimeMillis();
                // Once back, it stays: watch for another flap.
                sleep(10000);
                assertEquals("[fd99::2]:51821", r.endpoint(), "a's endpoint 10 s after moving back to IPv6");
                assertEquals(List.of("10.99.0.2:51821 -> [fd99::2]:51821"), r.endpointChanges(backMark),
                        "endpoint changes after IPv6 returned (exactly one):\n" + r.decisionsText(backMark));
                assertEquals(List.of("[fd99::2]:51821 -> 10.99.0.2:51821", "10.99.0.2:51821 -> [fd99::2]:51821"),
                        r.endpointChanges(mark), "endpoint changes from the blackhole on:\n" + r.decisionsText(mark));
                assertEquals(0, ping.lost(healed, returned), "pings lost while a moved back to IPv6");

                r.record("2 IPv6 blackholed -> IPv4", fallback, ping.longestGap(dead - 1000, fellBack),
                        "via jwg roam");
                r.record("2 IPv6 back -> IPv6", Double.NaN, ping.longestGap(healed, returned), String.format(
                        Locale.ROOT, "back on IPv6 %.1f s after it returned (hold-down), lost 0 packets", back));
            }
        }
    }

    /** 3. b has three A records; the address a uses dies: a moves to one of the two that live. */
    @Tag(TAG)
    @DisplayName("roaming 3: one of b's three A records dies, a moves to a live one")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("movingPeers")
    void theCurrentOfSeveralAddressesDiesAndALiveOneIsUsed(Implementation peer,
            @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        List<String> addresses = List.of("10.99.0.2", "10.99.0.22", "10.99.0.32");
        try (Roam r = Roam.create(peer, 2, addresses.toArray(String[]::new))) {
            for (String extra : addresses.subList(1, addresses.size())) {
                r.b.host.exec("ip", "addr", "add", extra + "/24", "dev", r.b.veth).orFail("b's address " + extra);
            }
            r.a.behindStatefulFirewall();
            r.startB();
            // wg-quick resolves the name for the UAPI (one of the three); jwg reads the name from JWG_CONFIG.
            Path conf = dir.resolve(r.a.ifname + ".conf");
            Files.writeString(conf, r.wgQuickConfig());
            r.startAWithWgQuick(conf.toString(), "JWG_CONFIG=" + conf);
            String current = r.endpoint();
            String currentAddress = current.substring(0, current.indexOf(':'));
            assertTrue(addresses.contains(currentAddress), "a's endpoint before: " + current);

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                r.b.host.exec("ip", "addr", "del", currentAddress + "/24", "dev", r.b.veth).orFail("kill " + current);
                long dead = System.currentTimeMillis();
                double recovery = r.awaitRecovery(ping, dead, 60);
                sleep(3000);

                String now = r.endpoint();
                assertNotEquals(current, now, "a's endpoint after its address died");
                assertTrue(addresses.contains(now.substring(0, now.indexOf(':'))), "a's endpoint after: " + now);
                assertEquals(List.of(current + " -> " + now), r.endpointChanges(mark),
                        "endpoint changes after the address died:\n" + r.decisionsText(mark));
                r.record("3 one of 3 A records dies", recovery,
                        ping.longestGap(dead - 1000, System.currentTimeMillis()), "via JWG_CONFIG and wg-quick");
            }
        }
    }

    /**
     * 4. The DNS server stops: nothing changes while the path works. Later b moves and DNS comes back with the new
     * address: a picks the move up.
     */
    @Tag(TAG)
    @DisplayName("roaming 4: DNS down, nothing changes; a later move is picked up")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aDnsOutageChangesNothingAndALaterMoveIsPickedUp(Implementation peer) {
        try (Roam r = Roam.create(peer, 2, "10.99.0.2")) {
            r.a.behindStatefulFirewall();
            r.startB();
            // The default place of the config: /etc/wireguard/IF.conf, here the namespace's own (ip netns exec).
            r.a.ns.etcFile("wireguard/" + r.a.ifname + ".conf", r.wgQuickConfig());
            r.startAWithWgQuick(r.a.ifname);

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                long stopped = System.currentTimeMillis();
                r.dns.stop();
                assertTrue(Shell.eventually(30, () -> r.decisionsText(mark).contains("resolving peer.test failed")),
                        "a did not notice the DNS outage:\n" + r.decisionsText(mark));
                sleep(Math.max(0, stopped + 10_000 - System.currentTimeMillis()));
                long quietEnd = System.currentTimeMillis();
                assertEquals("10.99.0.2:51821", r.endpoint(), "a's endpoint during the DNS outage");
                assertEquals(List.of(), r.endpointChanges(mark), "endpoint changes during the DNS outage");
                assertEquals(0, ping.lost(stopped, quietEnd - 1500), "pings lost during the DNS outage");

                r.dns.serve(HOST, "10.99.0.12");
                r.dns.start();
                int moveMark = r.decisions().size();
                long dead = r.moveB("10.99.0.2", "10.99.0.12");
                double recovery = r.awaitRecovery(ping, dead, 90);
                sleep(3000);

                assertEquals("10.99.0.12:51821", r.endpoint(), "a's endpoint after the move");
                assertEquals(List.of("10.99.0.2:51821 -> 10.99.0.12:51821"), r.endpointChanges(moveMark),
                        "endpoint changes after the move:\n" + r.decisionsText(moveMark));
                r.record("4 DNS down 10 s, then move", recovery,
                        ping.longestGap(dead - 1000, System.currentTimeMillis()),
                        "via /etc/wireguard/IF.conf and wg-quick; 0 lost while DNS was down");
            }
        }
    }

    /**
     * 7. DNS is down as the interface comes up (a field device booting before its uplink). With wg's own
     * {@code Endpoint = peer.test:PORT}, the stock wg-quick fails the whole interface, for any implementation, since
     * wg resolves the name first. With jwg's {@code #jwg: Endpoint = peer.test:PORT}, a comment to wg, wg-quick up
     * succeeds; jwg retries DNS with back-off (at most 5 s apart while the name never resolved) and connects once it
     * answers. Recovery is counted from DNS starting again. jwg logs in JSON here (JWG_LOG_FORMAT=json): the
     * decisions are read as fields, through python3's json module. It also serves metrics (JWG_METRICS): scraped
     * with curl and checked by promtool, their counters must match the decisions.
     */
    @Tag(TAG)
    @DisplayName("roaming 7: DNS down at wg-quick up: up anyway, connected once DNS answers")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aNameThatDoesNotResolveAtUpConnectsOnceDnsAnswers(Implementation peer) throws IOException {
        Environment.requireTool("curl");
        Environment.requireTool("promtool");
        try (Roam r = Roam.create(peer, 2, "10.99.0.2")) {
            r.a.behindStatefulFirewall();
            r.startB();
            r.dns.stop();
            String conf = "wireguard/" + r.a.ifname + ".conf";
            r.a.ns.etcFile(conf, r.wgQuickConfig());
            Shell.Result plain = r.a.wgQuick("up", r.a.ifname, "WG_ENDPOINT_RESOLUTION_RETRIES=1");
            assertNotEquals(0, plain.exit(), "wg-quick up resolved peer.test with DNS down?\n" + plain.out());
            assertTrue(Shell.eventually(15, () -> !Files.exists(r.a.socket())), "the failed interface stays");

            r.a.ns.etcFile(conf, r.wgQuickConfig().replace("Endpoint = ", "#jwg: Endpoint = "));
            long logFrom = Files.size(r.log);
            Shell.Result up = r.a.wgQuick("up", r.a.ifname, "JWG_LOG_FORMAT=json", "JWG_METRICS=9586");
            assertEquals(0, up.exit(), "wg-quick up with #jwg: Endpoint and DNS down:\n" + Shell.tail(r.log));
            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                assertTrue(Shell.eventually(15, () -> r.jsonDecisions(logFrom).stream().anyMatch(
                        d -> d.startsWith("dns_failed\t") && d.contains("no address known yet"))),
                        "a did not report the name unresolved:\n" + r.jsonDecisions(logFrom));
                sleep(3000);
                assertEquals(List.of(), ping.replies(), "replies with no address for b?");

                long back = System.currentTimeMillis();
                r.dns.start();
                double recovery = r.awaitRecovery(ping, back, 30);
                sleep(2000);

                assertEquals("10.99.0.2:51821", r.endpoint(), "a's endpoint once DNS answered");
                List<String> decisions = r.jsonDecisions(logFrom);
                assertEquals(List.of("endpoint_changed\tNone\t10.99.0.2:51821"), decisions.stream()
                        .filter(d -> d.startsWith("endpoint_changed\t") || d.startsWith("peer_roamed\t"))
                        .map(d -> d.substring(0, d.lastIndexOf('\t'))).toList(),
                        "endpoint changes (event, from, to):\n" + String.join("\n", decisions));

                String metrics = r.a.ns.exec("curl", "-sS", "http://127.0.0.1:9586/metrics").orFail("scraping").out();
                Shell.Result check = Shell.run(List.of("promtool", "check", "metrics"), metrics, 30);
                assertEquals(0, check.exit(), "promtool check metrics:\n" + check.out() + "\n" + metrics);
                String peerLabels = "interface=\"" + r.a.ifname + "\",public_key=\"" + r.b.publicKey + "\"";
                assertTrue(metrics.contains("jwg_endpoint_changes_total{" + peerLabels + ",reason=\"packet\"} 1.0"),
                        "one endpoint change, by an authenticated packet, as decided:\n" + metrics);
                assertFalse(metrics.contains("reason=\"wg\"}"), "wg never set an endpoint:\n" + metrics);
                Matcher dns = Pattern.compile("jwg_dns_failures_total\\{" + Pattern.quote(peerLabels)
                        + "\\} (\\d+)\\.0").matcher(metrics);
                assertTrue(dns.find() && Integer.parseInt(dns.group(1)) >= 1, "DNS failures counted:\n" + metrics);
                assertTrue(metrics.contains("jwg_handshake_rtt_seconds{" + peerLabels + "}"), metrics);
                assertFalse(metrics.contains("10.99.0."), "an endpoint address in the metrics:\n" + metrics);
                r.record("7 DNS down at wg-quick up", recovery, ping.longestGap(back, System.currentTimeMillis()),
                        "#jwg: Endpoint in /etc/wireguard/IF.conf; wg's Endpoint makes wg-quick up fail");
            }
        }
    }

    /**
     * 8. A path with delay and jitter: every datagram, each way, through a relay that delays it 40 ± 30 ms (so the
     * round trip varies from 20 to 140 ms and packets overtake one another). jwg's suspicion follows the path's
     * round trip, and must not mistake jitter for a dead path: over the run, with a ping every 100 ms, not one probe
     * and not one endpoint change. a hears b only through the relay (b's direct packets are dropped at a).
     */
    @Tag(TAG)
    @DisplayName("roaming 8: delay and jitter, no probe and no flap")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aPathWithJitterIsNeverTakenForADeadOne(Implementation peer) {
        int seconds = Integer.getInteger("jwg.roaming.jitterSeconds", 30);
        try (Roam r = Roam.create(peer, 60, "10.99.0.2");
             JitterRelay relay = new JitterRelay(r.b, JITTER_RELAY_PORT, 40, 30)) {
            r.a.ns.exec("iptables", "-A", "INPUT", "-p", "udp", "-s", r.b.underlay4, "--sport",
                    Integer.toString(r.b.port), "-j", "DROP").orFail("a hears b only through the relay");
            r.startB();
            r.a.up();
            r.a.addPeer(r.b, false, null);
            r.a.wg("set", r.a.ifname, "peer", r.b.publicKey, "endpoint", relay.toB).orFail("a's endpoint: the relay");
            r.jwg("roam", r.a.ifname, r.b.publicKey, HOST + ":" + JITTER_RELAY_PORT).orFail("jwg roam");
            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                long from = System.currentTimeMillis();
                sleep(seconds * 1000L);
                long to = System.currentTimeMillis();

                assertEquals(relay.toB, r.endpoint(), "a's endpoint");
                assertEquals(List.of(), r.endpointChanges(mark), "endpoint changes:\n" + r.decisionsText(mark));
                assertEquals(List.of(), r.decisions().subList(mark, r.decisions().size()).stream()
                        .filter(d -> d.contains("probing")).toList(), "probes on a path that works");
                assertTrue(ping.lost(from, to - 1000) <= 1, "pings lost through the relay: " + ping);
                List<Double> rtts = ping.replies().stream().filter(x -> x.sent() * 1000 >= from)
                        .map(x -> (x.arrived() - x.sent()) * 1000).sorted().toList();
                double median = rtts.get(rtts.size() / 2);
                assertTrue(median >= 50 && median <= 120, "the relay's delay is not in the path: median RTT "
                        + median + " ms");
                r.record("8 delay 40 ± 30 ms each way", Double.NaN, ping.longestGap(from, to), String.format(
                        Locale.ROOT, "%d s of pings every 100 ms, RTT %.0f-%.0f ms (median %.0f): 0 probes, 0 endpoint"
                        + " changes", seconds, rtts.get(0), rtts.get(rtts.size() - 1), median));
            }
        }
    }

    /**
     * 4b. The DNS server stops, then b moves: while DNS is gone a keeps the last address it knows and retries DNS with
     * back-off, one resolution at a time (each fails only after jwg's 2 s query timeout, so at most one A and one AAAA
     * query per 2 s reach the server); once DNS returns with b's new address, a picks the move up.
     */
    @Tag(TAG)
    @DisplayName("roaming 4b: b moves while DNS is down, picked up when it returns")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aMoveDuringADnsOutageIsPickedUpWhenDnsReturns(Implementation peer) {
        try (Roam r = Roam.create(peer, 2, "10.99.0.2")) {
            r.a.behindStatefulFirewall();
            r.startB();
            r.startAWithRoamCommand("10.99.0.2");

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                long queriesBefore = r.dns.queriesReceived();
                long stopped = System.currentTimeMillis();
                r.dns.stop();
                sleep(3000);
                long dead = r.moveB("10.99.0.2", "10.99.0.12");
                sleep(12_000);
                double outage = (System.currentTimeMillis() - stopped) / 1e3;
                long queries = r.dns.queriesReceived() - queriesBefore;
                assertTrue(Double.isNaN(ping.recoveredAfter(dead)), "traffic resumed while DNS was down: the test"
                        + " needs b unable to reach a on its own");
                assertEquals("10.99.0.2:51821", r.endpoint(), "a's endpoint while DNS is down");

                r.dns.serve(HOST, "10.99.0.12");
                int mark = r.decisions().size();
                long back = System.currentTimeMillis();
                r.dns.start();
                double recovery = r.awaitRecovery(ping, back, 90);
                sleep(3000);
                assertEquals("10.99.0.12:51821", r.endpoint(), "a's endpoint after DNS returned");
                assertEquals(List.of("10.99.0.2:51821 -> 10.99.0.12:51821"), r.endpointChanges(mark),
                        "endpoint changes after DNS returned:\n" + r.decisionsText(mark));
                r.record("4b move while DNS down", recovery, ping.longestGap(back - 1000, System.currentTimeMillis()),
                        String.format(Locale.ROOT, "recovery from DNS's return; %d DNS queries in %.0f s of outage",
                                queries, outage));
                long bound = 2 * ((long) Math.ceil(outage / 2) + 1);
                assertTrue(queries <= bound, queries + " DNS queries reached the stopped server in " + outage
                        + " s (at most " + bound + " with one resolution at a time):\n" + r.decisionsText(0));
            }
        }
    }

    /** 5. Two healthy paths (IPv4 and IPv6) for minutes: no endpoint change, DNS queried about once per TTL. */
    @Tag(TAG)
    @DisplayName("roaming 5: two healthy paths never flap, DNS asked once per TTL")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void twoHealthyPathsNeverFlapAndDnsIsQueriedPerTtl(Implementation peer) {
        int ttl = 10;
        try (Roam r = Roam.create(peer, ttl, "fd99::2", "10.99.0.2")) {
            r.startB();
            r.startAWithRoamCommand("10.99.0.2");
            assertTrue(Shell.eventually(30, () -> "[fd99::2]:51821".equals(r.endpoint())
                            && !r.endpointChanges(0).isEmpty()),
                    "a never moved to b's IPv6 address:\n" + r.decisionsText(0));

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                int queriesBefore = r.dns.queries(HOST, "A") + r.dns.queries(HOST, "AAAA");
                long start = System.currentTimeMillis();
                sleep(STEADY_SECONDS * 1000L);
                long end = System.currentTimeMillis();
                int queries = r.dns.queries(HOST, "A") + r.dns.queries(HOST, "AAAA") - queriesBefore;
                double seconds = (end - start) / 1e3;

                assertEquals(List.of(), r.endpointChanges(mark),
                        "endpoint changes between two healthy paths:\n" + r.decisionsText(mark));
                assertEquals("[fd99::2]:51821", r.endpoint(), "a's endpoint at the end");
                // One A and one AAAA query per max(TTL, 5 s); the bound allows one resolution more.
                int expected = 2 * (int) Math.ceil(seconds / Math.max(ttl, 5));
                assertTrue(queries <= expected + 2, queries + " DNS queries in " + seconds + " s with TTL " + ttl
                        + " s; expected about " + expected + "\n" + r.dns.logTail());
                assertTrue(queries >= 2, "no re-resolution in " + seconds + " s with TTL " + ttl + " s");
                long probes = r.decisions().subList(mark, r.decisions().size()).stream()
                        .filter(l -> l.contains(": probing ")).count();
                r.record("5 two healthy paths", Double.NaN, ping.longestGap(start, end), String.format(Locale.ROOT,
                        "%.0f s: 0 endpoint changes, %d DNS queries (TTL %d s, about %d expected), %d probes,"
                                + " %d pings lost", seconds, queries, ttl, expected, probes, ping.lost(start, end - 1500)));
            }
        }
    }

    /**
     * 9. An endpoint list (#jwg: Endpoint = peer.test:PORT, BACKUP:PORT; no Endpoint for wg): a starts on the primary;
     * the primary dies and a fails over to the backup; the primary returns and a fails back once, after it has
     * answered health checks for the hold-down, then stays. Health checks are real handshakes to the primary, so
     * they also show that wireguard-go answering from the primary during a check does not drag a's endpoint there.
     */
    @Tag(TAG)
    @DisplayName("roaming 9: endpoint list: primary dies, backup used; primary back, fail-back once after hold-down")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("listPeers")
    void anEndpointListFailsOverAndFailsBackAfterTheHoldDown(Implementation peer,
            @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        String primary = "10.99.0.2";
        String backup = "10.99.0.22";
        int holdDown = 8;
        try (Roam r = Roam.create(peer, 60, primary)) {
            String primaryEndpoint = primary + ":" + r.b.port;
            String backupEndpoint = backup + ":" + r.b.port;
            r.b.host.exec("ip", "addr", "add", backup + "/24", "dev", r.b.veth).orFail("b's backup address");
            r.a.behindStatefulFirewall();
            r.startB();
            Path conf = dir.resolve(r.a.ifname + ".conf");
            Files.writeString(conf, r.wgQuickConfig().replace("Endpoint = " + HOST + ":" + r.b.port + "\n",
                    "#jwg: Endpoint = " + HOST + ":" + r.b.port + ", " + backupEndpoint + "\n"
                            + "#jwg: FailbackAfter = " + holdDown + "\n"));
            r.startAWithWgQuick(conf.toString(), "JWG_CONFIG=" + conf);
            assertTrue(Shell.eventually(10, () -> primaryEndpoint.equals(r.endpoint())),
                    "a starts on the primary: " + r.endpoint() + "\n" + r.decisionsText(0));

            try (ContinuousPing ping = new ContinuousPing(r.a.ns, r.b.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                r.b.host.exec("ip", "addr", "del", primary + "/24", "dev", r.b.veth).orFail("the primary dies");
                long dead = System.currentTimeMillis();
                double failover = r.awaitRecovery(ping, dead, 60);
                assertTrue(Shell.eventually(5, () -> backupEndpoint.equals(r.endpoint())),
                        "a on the backup: " + r.endpoint() + "\n" + r.decisionsText(mark));
                sleep(3000);

                r.b.host.exec("ip", "addr", "add", primary + "/24", "dev", r.b.veth).orFail("the primary returns");
                long back = System.currentTimeMillis();
                assertTrue(Shell.eventually(holdDown + 60, () -> primaryEndpoint.equals(r.endpoint())),
                        "a never failed back: " + r.endpoint() + "\n" + r.decisionsText(mark));
                double failback = (System.currentTimeMillis() - back) / 1e3;
                // Watch both healthy for a while more (several hold-downs): nothing may move.
                sleep(LIST_STEADY_SECONDS * 1000L);
                long end = System.currentTimeMillis();

                assertEquals(List.of(primaryEndpoint + " -> " + backupEndpoint, backupEndpoint + " -> "
                        + primaryEndpoint), r.endpointChanges(mark), "endpoint changes:\n" + r.decisionsText(mark));
                assertEquals(primaryEndpoint, r.endpoint(), "a's endpoint at the end");
                List<String> after = r.decisions().subList(mark, r.decisions().size());
                assertTrue(after.stream().anyMatch(l -> l.contains("answers health checks again")),
                        "the primary's checks passed:\n" + r.decisionsText(mark));
                String failedBack = after.stream().filter(l -> l.contains(backupEndpoint + " -> " + primaryEndpoint))
                        .findFirst().orElseThrow();
                assertTrue(failedBack.contains("fail-back: " + primaryEndpoint + " answered health checks for"),
                        "the fail-back says why: " + failedBack);
                Matcher held = Pattern.compile("answered health checks for (\\d+) s").matcher(failedBack);
                assertTrue(held.find() && Integer.parseInt(held.group(1)) >= holdDown,
                        "it failed back only after the hold-down: " + failedBack);
                r.record("9 list: primary dies, backup", failover, ping.longestGap(dead - 1000, back),
                        "#jwg: Endpoint list via wg-quick");
                r.record("9 list: primary back, fail-back", failback, ping.longestGap(back, end), String.format(
                        Locale.ROOT, "figure = time until fail-back (hold-down %d s); %d pings lost meanwhile",
                        holdDown, ping.lost(back, end - 1500)));
            }
        }
    }

    /**
     * 10. a's own uplink changes while only b sends: a's address is replaced by another (the old one deleted, the new
     * one added) and nothing but b's pings, which a answers, flows. b keeps sending to a's old address, where nothing
     * answers; only a can tell b where it is now, and it has nothing to send. jwg hears the change from the kernel
     * (netlink) and probes at once: its handshake from the new address moves b's endpoint for a (b's built-in
     * roaming). Without that, neither a jwg without the netlink watch nor wireguard-go would recover until something
     * made a send (bench/roaming-recovery's scenario 4 measures them).
     */
    @Tag(TAG)
    @DisplayName("roaming 10: a's uplink address changes while only b sends; a tells b at once")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aLocalUplinkChangeIsToldToThePeerAtOnce(Implementation peer) {
        String newAddress = "10.99.0.11";
        try (Roam r = Roam.create(peer, 60, "10.99.0.2")) {
            r.startB();
            r.startAWithRoamCommand("10.99.0.2");
            try (ContinuousPing ping = new ContinuousPing(r.b.ns, r.a.inner4)) {
                r.flowing(ping);
                int mark = r.decisions().size();
                r.a.ns.exec("ip", "addr", "add", newAddress + "/24", "dev", r.a.veth).orFail("a's new address");
                r.a.ns.exec("ip", "addr", "del", r.a.underlay4 + "/24", "dev", r.a.veth).orFail("a's old address");
                long moved = System.currentTimeMillis();
                double recovery = r.awaitRecovery(ping, moved, 60);
                List<String> after = r.decisions().subList(mark, r.decisions().size());
                assertTrue(after.stream().anyMatch(l -> l.contains("local network changed: ")
                                && l.contains(r.a.underlay4 + "/24 removed")),
                        "a acted on the kernel's news:\n" + r.decisionsText(mark));
                assertTrue(Shell.eventually(5, () -> String.valueOf(r.b.endpointOf(r.a)).startsWith(newAddress + ":")),
                        "b's endpoint for a: " + r.b.endpointOf(r.a));
                assertEquals(List.of(), r.endpointChanges(mark), "a's endpoint for b stays:\n" + r.decisionsText(mark));
                r.record("10 a's address changes, b sends", recovery, ping.longestGap(moved - 1000,
                        System.currentTimeMillis()), "netlink; only b pings");
            }
        }
    }

    /**
     * 6. b roams to a on its own: its address changes and it keeps sending. a follows (built-in roaming), and roaming
     * keeps it there although DNS still names the old address.
     */
    @Tag(TAG)
    @DisplayName("roaming 6: b roams to a, a follows and keeps it")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("wireguardGo")
    void aPeerThatRoamsToUsIsFollowedAndNotUndone(Implementation peer) throws Exception {
        peerRoamsToUs(peer, false);
    }

    /**
     * 6b. As 6, with traffic both ways: a, sending to b's dead address, probes it meanwhile; b's roaming must win all
     * the same, and be logged as a decision like any other endpoint change.
     */
    @Tag(TAG)
    @DisplayName("roaming 6b: b roams to a while a probes, a follows and logs it")
    @ParameterizedTest(name = "jwg → {0}")
    @MethodSource("movingPeers")
    void aPeerThatRoamsToUsWhileWeProbeIsFollowedAndLogged(Implementation peer) throws Exception {
        peerRoamsToUs(peer, true);
    }

    /**
     * Traffic from b keeps it sending to a after it moved; it is what the recovery is measured on where b is a
     * namespace. The guest's busybox ping prints no timestamps: with the kernel, a's own ping is the measure.
     */
    private void peerRoamsToUs(Implementation peer, boolean aSendsToo) throws Exception {
        try (Roam r = Roam.create(peer, 2, "10.99.0.2")) {
            r.startB();
            r.startAWithRoamCommand("10.99.0.2");

            try (AutoCloseable fromB = r.b.host instanceof Netns ns ? new ContinuousPing(ns, r.a.inner4)
                        : r.b.host.spawnSh("exec ping -i 0.1 " + r.a.inner4);
                    ContinuousPing fromA = aSendsToo ? new ContinuousPing(r.a.ns, r.b.inner4) : null) {
                ContinuousPing ping = fromB instanceof ContinuousPing c ? c : fromA;
                r.flowing(ping);
                int mark = r.decisions().size();
                long dead = r.moveB("10.99.0.2", "10.99.0.12");
                // wireguard-go keeps its removed source address until its own handshake timer gives up on it (~15 s).
                double recovery = r.awaitRecovery(ping, dead, 90);
                assertTrue(Shell.eventually(10, () -> "10.99.0.12:51821".equals(r.endpoint())),
                        "a did not follow b: " + r.endpoint() + "\n" + r.decisionsText(mark));

                int queriesBefore = r.dns.queries(HOST, "A");
                long followed = System.currentTimeMillis();
                while (System.currentTimeMillis() - followed < 15_000) {
                    assertEquals("10.99.0.12:51821", r.endpoint(), "a's endpoint after b roamed to it");
                    sleep(500);
                }
                assertTrue(r.dns.queries(HOST, "A") > queriesBefore, "a did not re-resolve the name meanwhile");
                assertEquals(List.of("10.99.0.2:51821 -> 10.99.0.12:51821"), r.endpointChanges(mark),
                        "endpoint changes after b roamed:\n" + r.decisionsText(mark));
                assertTrue(r.decisionsText(mark).contains("the peer roamed to us: endpoint 10.99.0.2:51821 -> "
                        + "10.99.0.12:51821"), "no decision that the peer roamed:\n" + r.decisionsText(mark));
                r.record(aSendsToo ? "6b peer roams, both send" : "6 peer roams to us", recovery,
                        ping.longestGap(dead - 1000, System.currentTimeMillis()),
                        "ping from b" + (aSendsToo ? " and a" : "") + (ping == fromA ? ", measured on a's" : "")
                                + "; kept 15 s while DNS named the old address");
            }
        }
    }

    /** The peers that move in the scenarios that run with either: wireguard-go, and the kernel's WireGuard. */
    static Stream<Implementation> movingPeers() {
        return Stream.of(Implementation.wireguardGo(), Implementation.kernel());
    }

    /**
     * Scenario 9's peers: wireguard-go, and the kernel too with -Djwg.roaming.kernelToo=true (about a minute more,
     * left out of CI's time budget).
     */
    static Stream<Implementation> listPeers() {
        return Boolean.getBoolean("jwg.roaming.kernelToo") ? movingPeers() : wireguardGo();
    }

    static Stream<Implementation> wireguardGo() {
        return Stream.of(Implementation.wireguardGo());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The topology: jwg (a) to follow peer.test, wireguard-go (b), dnsmasq serving peer.test to a. */
    private static final class Roam implements AutoCloseable {
        final Pair pair;
        final Node a;
        final Node b;
        final DnsServer dns;
        final Path log;
        private final long logStart;

        private Roam(Pair pair, DnsServer dns) {
            this.pair = pair;
            this.a = pair.a;
            this.b = pair.b;
            this.dns = dns;
            this.log = Implementation.logFile(a.ifname);
            try {
                this.logStart = Files.exists(log) ? Files.size(log) : 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Namespaces jwgrNa, jwgrNb (or the kernel guest for b) and jwgrNad (DNS), with peer.test served with ttl;
         * nothing started but DNS.
         */
        static Roam create(Implementation peer, int ttl, String... addresses) {
            if (peer.isKernel()) {
                Environment.requireKernelPeer();
            }
            Pair pair = Pair.hosts("r", Implementation.jwg(), peer);
            DnsServer dns = null;
            try {
                dns = new DnsServer(pair.a.ns, ttl);
                dns.serve(HOST, addresses);
                dns.start();
                return new Roam(pair, dns);
            } catch (RuntimeException | AssertionError e) {
                if (dns != null) {
                    dns.close();
                }
                pair.close();
                throw e;
            }
        }

        /** b's implementation, with a as its peer at a's address. */
        void startB() {
            b.up();
            b.addPeer(a, false, null);
        }

        /** jwg on a with b's endpoint set as an address, then `jwg roam IF PUBKEY peer.test:PORT`; waits for it. */
        void startAWithRoamCommand(String address) {
            a.up();
            a.addPeer(b, address.contains(":"), null);
            jwg("roam", a.ifname, b.publicKey, HOST + ":" + b.port).orFail("jwg roam");
            awaitFollowing();
        }

        /** jwg on a brought up by wg-quick from config (a file or an interface name); waits for it to follow b. */
        void startAWithWgQuick(String config, String... env) {
            Shell.Result up = a.wgQuick("up", config, env);
            assertEquals(0, up.exit(), "wg-quick up " + config + ":\n" + Shell.tail(log));
            awaitFollowing();
        }

        private void awaitFollowing() {
            assertTrue(a.ping(b.inner4, 3), "no ping reply through the tunnel");
            assertTrue(Shell.eventually(15, () -> decisionsText(0).contains(HOST + " resolves to")),
                    "a does not follow " + HOST + ":\n" + decisionsText(0) + "\n" + Shell.tail(log));
        }

        /** The wg-quick config of a, with b's endpoint as peer.test:PORT. */
        String wgQuickConfig() {
            return """
                    [Interface]
                    PrivateKey = %s
                    ListenPort = %d
                    Address = %s/24

                    [Peer]
                    PublicKey = %s
                    AllowedIPs = %s/32
                    Endpoint = %s:%d
                    """.formatted(a.privateKey, a.port, a.inner4, b.publicKey, b.inner4, HOST, b.port);
        }

        /** jwg's command in a's namespace. */
        Shell.Result jwg(String... args) {
            List<String> cmd = new ArrayList<>(Implementation.jwg().command());
            cmd.addAll(List.of(args));
            return a.ns.exec(cmd.toArray(String[]::new));
        }

        /** a's endpoint for b, as wg show prints it. */
        String endpoint() {
            return a.endpointOf(b);
        }

        /** b's address from moves to to: the new one is added, then the old one deleted; returns when it was gone. */
        long moveB(String from, String to) {
            b.host.exec("ip", "addr", "add", to + "/24", "dev", b.veth).orFail("b's new address");
            b.host.exec("ip", "addr", "del", from + "/24", "dev", b.veth).orFail("b's old address away");
            // Only once the command returned is the address surely gone: a ping sent while it ran may still pass.
            return System.currentTimeMillis();
        }

        /**
         * Drops (action "-A") or lets through again ("-D") WireGuard over IPv6 between a and b: what reaches b's port
         * in b's namespace, or, for the kernel guest, which has no ip6tables, what comes from it into a's.
         */
        void blackholeIpv6(String action) {
            Shell.Result r = b.host instanceof Netns
                    ? b.ns.exec("ip6tables", action, "INPUT", "-p", "udp", "--dport", "51821", "-j", "DROP")
                    : a.ns.exec("ip6tables", action, "INPUT", "-s", b.underlay6, "-p", "udp", "--sport", "51821",
                            "-j", "DROP");
            r.orFail("ip6tables " + action + " (IPv6 blackhole)");
        }

        /** Waits until ping gets replies. */
        void flowing(ContinuousPing ping) {
            long started = System.currentTimeMillis();
            assertTrue(Shell.eventually(10, () -> ping.replies().size() >= 5), "no traffic: " + ping);
            sleep(Math.max(0, started + 2000 - System.currentTimeMillis()));
        }

        double awaitRecovery(ContinuousPing ping, long dead, int timeoutSeconds) {
            double recovery = ping.awaitRecovery(dead, timeoutSeconds);
            assertFalse(Double.isNaN(recovery), "traffic did not resume within " + timeoutSeconds + " s ("
                    + ping + "); a's endpoint " + endpoint() + "\n" + decisionsText(0));
            return recovery;
        }

        /** The roaming decisions a logged (INFO lines) since the test began. */
        List<String> decisions() {
            try {
                if (!Files.exists(log)) {
                    return List.of();
                }
                byte[] all = Files.readAllBytes(log);
                String text = new String(all, (int) Math.min(logStart, all.length),
                        (int) Math.max(0, all.length - logStart), java.nio.charset.StandardCharsets.UTF_8);
                String tag = "INFO: (" + a.ifname + ")";
                return text.lines().filter(l -> l.startsWith(tag)).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String decisionsText(int from) {
            List<String> d = decisions();
            return String.join("\n", d.subList(Math.min(from, d.size()), d.size()));
        }

        /**
         * a's roaming decisions logged as JSON (JWG_LOG_FORMAT=json) since byte from of its log, read by python3's json
         * module: "event TAB from TAB to TAB message" each; a line that starts like JSON but is not fails the test.
         */
        List<String> jsonDecisions(long from) {
            String script = String.join("\n",
                    "import json, sys",
                    "path, start, iface = sys.argv[1], int(sys.argv[2]), sys.argv[3]",
                    "text = open(path, 'rb').read()[start:].decode('utf-8', 'replace')",
                    "for line in text.splitlines():",
                    "    if not line.startswith('{'):",
                    "        continue",
                    "    o = json.loads(line)",
                    "    if o.get('interface') == iface and o.get('level') == 'info' and 'event' in o:",
                    "        print('\\t'.join(str(o.get(k)) for k in ('event', 'from', 'to', 'message')))");
            return Shell.run("python3", "-c", script, log.toString(), Long.toString(from), a.ifname)
                    .orFail("python3 reading " + log + " as JSON lines").out().lines().toList();
        }

        /** The endpoint changes ("OLD -> NEW", as wg show prints endpoints) among the decisions from index from on. */
        List<String> endpointChanges(int from) {
            List<String> d = decisions();
            List<String> changes = new ArrayList<>();
            for (String line : d.subList(Math.min(from, d.size()), d.size())) {
                Matcher m = ENDPOINT_CHANGE.matcher(line);
                if (m.find()) {
                    changes.add(m.group(1) + " -> " + m.group(2));
                }
            }
            return changes;
        }

        /** Prints and appends to target/roaming-recovery.txt one scenario's figures (recovery NaN: not one). */
        void record(String scenario, double recovery, double longestGap, String note) {
            scenario += " (" + b.impl.name() + ")";
            String line = String.format(Locale.ROOT, "%-40s recovery %s  longest gap between replies %.2f s  (%s)",
                    scenario, Double.isNaN(recovery) ? "  -   " : String.format(Locale.ROOT, "%.2f s", recovery),
                    longestGap, note);
            RESULTS.record(line);
        }

        @Override
        public void close() {
            dns.close();
            pair.close();
        }
    }
}
