package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults a tunnel must ride out by itself, with nobody restarting or reconfiguring it: its peer's daemon frozen
 * (SIGSTOP), its peer's daemon killed and started again with the same configuration (every session forgotten on that
 * side), the path dropping every datagram for a while, and a lossy path that reorders. Each runs with the
 * implementation under test on both ends and, as the control in the same run, wireguard-go on both ends (the control
 * runs first; the mixed pairs too where a run is short). The implementation must recover by itself within what the
 * protocol's timers allow, and no worse than the control; its daemons must still run and answer {@code wg show}.
 * <p>Traffic is a ping from a to b every 0.1 s ({@link ContinuousPing}); recovery is the time from the end of the
 * fault to the first reply to a request sent after it. Every figure goes to standard output and to
 * target/faults.txt, one line per scenario and pairing.
 * <p>Durations: short by default (SIGSTOP {@value #CI_STOP_SECONDS} s, blackout {@value #CI_BLACKOUT_SECONDS} s,
 * {@value #CI_TRANSFER_MB} MB through the lossy relay), so that the class takes a few minutes; those of issue 12
 * (SIGSTOP 20 s, blackout 30 s, 50 MB) with {@code -Djwg.faults.full=true}, about six minutes:
 * <pre>
 * mvn -B -ntp verify -pl interop-tests -am -Dit.test=FaultsIT -Djwg.faults.full=true -Dtest=none \
 *     -Djwg.skipOffloadsOffPass=true -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 * The short faults end before the 15 s after which a side that hears nothing back starts a new handshake
 * (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT); the full ones outlast it, so they also cover initiations sent into the fault
 * (queued in a frozen peer's socket, or lost in a blackout) and, after SIGSTOP, the frozen side's own timer firing as
 * it wakes.
 *
 * <h2>The margin against the control</h2>
 * A recovery may take at most {@value #CONTROL_FACTOR} × the control's plus {@value #CONTROL_SLACK_SECONDS} s.
 * Both implementations run the same timers of §6 of the whitepaper, so their recoveries should differ only by the
 * timers' random jitter (at most 1/3 s per handshake), the 0.1 s between pings, and whatever the shared two-core
 * machine adds (a stalled scheduler, a JIT compilation, a GC): one second absorbs those. The factor is kept small on
 * purpose: the longest recovery here is the 15 s a peer waits before it presumes a silent session dead, and 1.5× would
 * let through an implementation that waits one whole REKEY_TIMEOUT (5 s) more than it should; 1.1× does not.
 * Pings lost in the {@value #AFTER_MS} ms after recovery may exceed the control's by {@value #LOSS_SLACK} (a tenth of
 * them: one stall on this machine).
 * <p>Goodput through the lossy, reordering relay is compared as the share each pair keeps of its own goodput through
 * the plain relay a moment before: the relay forwards one datagram at a time on a CPU that other runs share, so the
 * plain figure says more about per-packet cost and the machine's load than about faults (in iperf3 runs through it,
 * jwg made 170-230 Mbit/s and wireguard-go 220-390 Mbit/s, depending on the moment). The share kept must be at least
 * a third of the control's (a control that seemed to gain from losses counts as 1). TCP at these round trips shrugs
 * off 5% random loss (iperf3 lost no goodput to it), so the share is mostly the machine's mood between the two
 * transfers: it ranged 0.52-1.35 for jwg and 0.76-1.02 for wireguard-go in this class's first runs, 0.64-1.03 and
 * 0.69-1.30 in iperf3 runs. A third catches a receiver that stalls or collapses under reordering (losing most of
 * its goodput), not the dice. The replay window itself is held to a stricter test: reordered pings, none lost, must
 * all be answered.
 */
class FaultsIT {
    static final boolean FULL = Boolean.getBoolean("jwg.faults.full");
    static final int CI_STOP_SECONDS = 5;
    static final int CI_BLACKOUT_SECONDS = 10;
    static final int CI_TRANSFER_MB = 20;
    static final int STOP_SECONDS = FULL ? 20 : CI_STOP_SECONDS;
    static final int BLACKOUT_SECONDS = FULL ? 30 : CI_BLACKOUT_SECONDS;
    static final int TRANSFER_MB = FULL ? 50 : CI_TRANSFER_MB;
    /** The interval most configurations use: it never fires while pings flow, only when a side has been quiet. */
    static final int PERSISTENT_KEEPALIVE = 25;

    static final double CONTROL_FACTOR = 1.1;
    static final double CONTROL_SLACK_SECONDS = 1.0;
    static final int AFTER_MS = 3000;
    static final int LOSS_SLACK = 3;
    static final double GOODPUT_SHARE = 1.0 / 3;

    /**
     * What the protocol allows, whatever the control did. A frozen peer or a blackout leave both sessions intact: once
     * packets pass again they carry on, so one REKEY_TIMEOUT (5 s, a handshake that was in flight lost once) is
     * plenty. A restarted peer with persistent keepalive initiates as it comes up: the same. One without keepalive is
     * found only by a's own timer: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter (15⅓ s) after a's first unanswered
     * packet, one REKEY_TIMEOUT more if that initiation is lost, and a second for the machine.
     */
    static final double SESSION_INTACT_LIMIT = 5;
    static final double SILENT_RESTART_LIMIT = 15 + 1.0 / 3 + 5 + 1;

    /** Namespaces jwgfltNa/b, interfaces wgfltNa/b: apart from every other suite's names. */
    private static final String NAMES = "flt";
    private static final int RELAY_PORT_FOR_A = 51900;
    private static final int RELAY_PORT_FOR_B = 51901;
    private static final double LOSS = 0.05;
    private static final double REORDERED = 0.05;
    private static final int TCP_PORT = 5005;
    private static final int TRANSFER_TIMEOUT_SECONDS = 300;
    private static final int BURST_PINGS = 300;
    private static final Pattern PING_SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final FigureLog RESULTS = new FigureLog("FaultsIT", "faults.txt");

    /** The control's figures of this run by scenario, for the pairings measured after it. */
    private static final Map<String, Recovery> CONTROL_RECOVERY = new ConcurrentHashMap<>();
    private static final Map<String, Throughput> CONTROL_THROUGHPUT = new ConcurrentHashMap<>();

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("iptables");
        Environment.requireTool("python3");
        Environment.requireTool("ncat");
        Environment.requireTool("ss");
    }

    /** The control first, then the implementation under test with itself. */
    static Stream<Arguments> controlAndSubject() {
        Implementation s = Implementation.subject();
        Implementation w = Implementation.wireguardGo();
        return Pair.distinct(new Implementation[][] {{w, w}, {s, s}});
    }

    /** {@link #controlAndSubject}, then the implementation under test with wireguard-go both ways. */
    static Stream<Arguments> controlSubjectAndMixed() {
        Implementation s = Implementation.subject();
        Implementation w = Implementation.wireguardGo();
        return Pair.distinct(new Implementation[][] {{w, w}, {s, s}, {s, w}, {w, s}});
    }

    // ---- SIGSTOP ----

    @Tag(MatrixReport.TAG)
    @DisplayName("SIGSTOP b, persistent keepalive 25 s: pings flow again at once after SIGCONT")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlSubjectAndMixed")
    void aFrozenPeerWithPersistentKeepaliveAnswersAgainAtOnceWhenResumed(Implementation a, Implementation b) {
        String scenario = "SIGSTOP b " + STOP_SECONDS + " s, persistent keepalive " + PERSISTENT_KEEPALIVE + " s";
        checkRecovery(scenario, a, b, SESSION_INTACT_LIMIT, (x, y) -> sigstop(x, y, PERSISTENT_KEEPALIVE));
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("SIGSTOP b, no keepalive: pings flow again at once after SIGCONT")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlAndSubject")
    void aFrozenPeerAnswersAgainAtOnceWhenResumed(Implementation a, Implementation b) {
        String scenario = "SIGSTOP b " + STOP_SECONDS + " s, no keepalive";
        checkRecovery(scenario, a, b, SESSION_INTACT_LIMIT, (x, y) -> sigstop(x, y, 0));
    }

    /**
     * Pings flow from a to b; b's daemon is frozen, then resumed. What a sent meanwhile waits in b's socket, so b
     * answers it late and carries on on the same session. In the full run a's initiation (15 s without a reply) waits
     * there too, and b, waking to find it sent data 20 s ago and heard nothing since, initiates as well: both
     * wireguard-go and jwg do, before reading the backlog that would have told them otherwise.
     */
    private static Recovery sigstop(Implementation implA, Implementation implB, int keepalive) {
        try (Pair p = pair(implA, implB, keepalive); ContinuousPing ping = new ContinuousPing(p.a.ns, p.b.inner4)) {
            awaitFlowing(p, ping);
            long pidA = p.a.daemonPid();
            long pidB = p.b.daemonPid();
            signal("STOP", pidB);
            long resumed;
            try {
                sleep(STOP_SECONDS * 1000L);
            } finally {
                signal("CONT", pidB);
                resumed = System.currentTimeMillis();
            }
            Recovery r = measure(p, ping, resumed);
            assertSurvived(p, pidA, pidB);
            return r.noting("after SIGCONT");
        }
    }

    // ---- restart ----

    @Tag(MatrixReport.TAG)
    @DisplayName("b restarted, persistent keepalive 25 s: b's new handshake is accepted at once")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlSubjectAndMixed")
    void aRestartedPeerWithPersistentKeepaliveIsBackAsSoonAsItIsUp(Implementation a, Implementation b) {
        String scenario = "b restarted, persistent keepalive " + PERSISTENT_KEEPALIVE + " s";
        checkRecovery(scenario, a, b, SESSION_INTACT_LIMIT, (x, y) -> restart(x, y, PERSISTENT_KEEPALIVE));
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("b restarted, no keepalive: a finds out by its own timer and handshakes again")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlAndSubject")
    void aRestartedPeerIsFoundAgainByTheSenderWhenNothingComesBack(Implementation a, Implementation b) {
        checkRecovery("b restarted, no keepalive", a, b, SILENT_RESTART_LIMIT, (x, y) -> restart(x, y, 0));
    }

    /**
     * Pings flow from a to b; b's daemon is killed (SIGKILL, as a crash: nothing is said to a) and started again with
     * the same key, port and peer. b knows no session any more and drops a's data. With persistent keepalive b owes a
     * keepalive as soon as it is configured, so it initiates; without, b has nothing to send and a must notice that
     * nothing comes back. Recovery counts from the moment b is configured again, so that a daemon's start-up time
     * (a JVM's is longer than a Go binary's) is reported apart, not held against the protocol.
     */
    private static Recovery restart(Implementation implA, Implementation implB, int keepalive) {
        try (Pair p = pair(implA, implB, keepalive); ContinuousPing ping = new ContinuousPing(p.a.ns, p.b.inner4)) {
            awaitFlowing(p, ping);
            long pidA = p.a.daemonPid();
            long pidB = p.b.daemonPid();
            long killed = System.currentTimeMillis();
            signal("KILL", pidB);
            assertTrue(Shell.eventually(10, () -> !Files.exists(Path.of("/proc", Long.toString(pidB)))
                            && p.b.host.exec("ip", "link", "show", p.b.ifname).exit() != 0),
                    p + ": b's daemon or its interface still there 10 s after SIGKILL");
            p.b.up();
            p.b.addPeer(p.a, false, null);
            keepalive(p.b, p.a, keepalive);
            long back = System.currentTimeMillis();
            Recovery r = measure(p, ping, back);
            assertSurvived(p, pidA, p.b.daemonPid());
            return r.noting(String.format(Locale.ROOT, "after b was configured again (%.2f s after SIGKILL)",
                    (back - killed) / 1e3));
        }
    }

    // ---- blackout ----

    @Tag(MatrixReport.TAG)
    @DisplayName("blackout: all UDP between a and b dropped, then restored; both sessions carry on")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlAndSubject")
    void aBlackoutIsRiddenOutWithoutRestart(Implementation a, Implementation b) {
        String scenario = "blackout " + BLACKOUT_SECONDS + " s, no keepalive";
        checkRecovery(scenario, a, b, SESSION_INTACT_LIMIT, FaultsIT::blackout);
    }

    /**
     * Pings flow from a to b; then every UDP datagram that arrives at a or at b over the veth is dropped for a while
     * (the INPUT chain of each namespace: a DROP on OUTPUT would fail the sender's own send with EPERM, which is a
     * local error and not what a broken path looks like). Afterwards pings must flow both ways again on their own.
     */
    private static Recovery blackout(Implementation implA, Implementation implB) {
        try (Pair p = pair(implA, implB, 0); ContinuousPing ping = new ContinuousPing(p.a.ns, p.b.inner4)) {
            awaitFlowing(p, ping);
            long pidA = p.a.daemonPid();
            long pidB = p.b.daemonPid();
            long restored;
            try {
                blackout(p, "-I");
                sleep(BLACKOUT_SECONDS * 1000L);
            } finally {
                blackout(p, "-D");
                restored = System.currentTimeMillis();
            }
            Recovery r = measure(p, ping, restored);
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": b's pings to a get no reply after the blackout");
            assertSurvived(p, pidA, pidB);
            return r.noting("after the path came back");
        }
    }

    private static void blackout(Pair p, String insertOrDelete) {
        for (Node node : new Node[] {p.a, p.b}) {
            node.ns.exec("iptables", insertOrDelete, "INPUT", "-i", node.veth, "-p", "udp", "-j", "DROP")
                    .orFail("iptables " + insertOrDelete + " blackout on " + node);
        }
    }

    // ---- loss and reordering ----

    @Tag(MatrixReport.TAG)
    @DisplayName("5% loss and reordering: reordered pings all answered, a TCP transfer arrives whole, pings flow")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("controlAndSubject")
    void aLossyReorderingPathCarriesTcpAndPings(Implementation a, Implementation b) {
        String scenario = String.format(Locale.ROOT, "%.0f%% loss each way, %.0f%% reordered, %d MB a → b", LOSS * 100,
                REORDERED * 100, TRANSFER_MB);
        boolean control = isControl(a, b);
        Throughput t = lossyTransfer(a, b);
        if (control) {
            CONTROL_THROUGHPUT.put(scenario, t);
        }
        Throughput c = control ? t : CONTROL_THROUGHPUT.computeIfAbsent(scenario, k -> lossyTransfer(
                Implementation.wireguardGo(), Implementation.wireguardGo()));
        double required = GOODPUT_SHARE * Math.min(1, c.kept());
        record(scenario, a, b, t.describe() + (control ? "" : String.format(Locale.ROOT,
                "; control %.1f of %.1f MB/s (%.2f), %d of %d burst pings answered, longest gap %.2f s;"
                + " allowed ≥ %.2f kept", c.lossy, c.clean, c.kept(), c.burstAnswered, BURST_PINGS, c.longestGap,
                required)));
        String what = a + " → " + b + ", " + scenario;
        assertEquals(BURST_PINGS, t.burstAnswered, what + ": reordered (not lost) pings went unanswered");
        // A tenth of the pings is lost on average (5% each way); a gap of 3 s would be 30 in a row.
        assertTrue(t.longestGap < 3, what + ": pings stopped for " + t.longestGap + " s during the transfer");
        if (!control) {
            assertTrue(t.kept() >= required, what + ": kept " + t.kept() + " of its goodput under loss and reordering ("
                    + t.lossy + " of " + t.clean + " MB/s); the control kept " + c.kept());
        }
    }

    /**
     * What one run through the relay measured: reordered pings answered; goodput in MB/s through the plain relay
     * (clean) and with loss and reordering (lossy); pings lost and the longest gap between replies during the latter.
     */
    private record Throughput(int burstAnswered, long overtakenInBurst, double clean, double lossy, long overtaken,
            long relayed, int pingsLost, double longestGap) {
        /** The share of its goodput the pair kept under the faults. */
        double kept() {
            return lossy / clean;
        }

        String describe() {
            return String.format(Locale.ROOT, "reordering alone: %d of %d pings at 100/s answered (%d datagrams"
                    + " overtaken); goodput %.1f MB/s with loss and reordering, %.1f through the plain relay (%.2f"
                    + " kept), sha256 equal, %d of %d datagrams overtaken, %d pings lost, longest gap between replies"
                    + " %.2f s", burstAnswered, BURST_PINGS, overtakenInBurst, lossy, clean, kept(), overtaken,
                    relayed, pingsLost, longestGap);
        }
    }

    /**
     * a and b reach each other only through a {@link ReorderingRelay} in b's namespace. First through the plain
     * relay: TRANSFER_MB of random data from a to b over TCP, twice, the second the baseline (whose goodput the relay,
     * a python3 loop that forwards one datagram at a time, and the shared machine's CPU decide more than WireGuard
     * does). Then with reordering alone: a burst of pings, every one of which must come back, since nothing is lost,
     * only late. Then iptables also drops 5% of the datagrams arriving at the relay from either side, and the transfer
     * is repeated while a keeps pinging b. What arrives must each time have the sent SHA-256.
     */
    private static Throughput lossyTransfer(Implementation implA, Implementation implB) {
        Path payload = randomFile(TRANSFER_MB);
        try (Pair p = Pair.hosts(NAMES, implA, implB)) {
            p.a.up();
            p.b.up();
            try (ReorderingRelay relay = new ReorderingRelay(p.a, p.b, RELAY_PORT_FOR_A, RELAY_PORT_FOR_B, REORDERED)) {
                peer(p.a, p.b, relay.toB);
                peer(p.b, p.a, relay.toA);
                long pidA = p.a.daemonPid();
                long pidB = p.b.daemonPid();
                assertTrue(p.a.awaitPing(p.b.inner4, 10), p + ": no ping reply through the relay");
                // Once unmeasured: a JVM that has just started compiles its hot paths during its first transfer.
                transfer(p, payload);
                long[] clean = transfer(p, payload);

                relay.reorder();
                ReorderingRelay.Stats before = settledStats(relay);
                Shell.Result burst = p.a.host.exec(60, "ping", "-q", "-c", Integer.toString(BURST_PINGS), "-i",
                        "0.01", "-W", "5", p.b.inner4);
                Matcher m = PING_SUMMARY.matcher(burst.out());
                assertTrue(m.find(), p + ": no ping summary: " + burst.out());
                long overtakenInBurst = settledStats(relay).overtaken() - before.overtaken();
                assertTrue(overtakenInBurst > 0, p + ": the relay reordered none of the burst's datagrams");

                for (int port : new int[] {RELAY_PORT_FOR_A, RELAY_PORT_FOR_B}) {
                    p.b.ns.exec("iptables", "-A", "INPUT", "-p", "udp", "--dport", Integer.toString(port), "-m",
                            "statistic", "--mode", "random", "--probability", Double.toString(LOSS), "-j", "DROP")
                            .orFail("iptables loss on port " + port);
                }
                ReorderingRelay.Stats lossyFrom = relay.stats();
                try (ContinuousPing ping = new ContinuousPing(p.a.ns, p.b.inner4)) {
                    sleep(1000);
                    long[] lossy = transfer(p, payload);
                    ReorderingRelay.Stats after = settledStats(relay);
                    assertSurvived(p, pidA, pidB);
                    return new Throughput(Integer.parseInt(m.group(2)), overtakenInBurst, megabytesPerSecond(clean),
                            megabytesPerSecond(lossy), after.overtaken() - lossyFrom.overtaken(),
                            after.sent() - lossyFrom.sent(), ping.lost(lossy[0], lossy[1]),
                            ping.longestGap(lossy[0], lossy[1]));
                }
            }
        } finally {
            try {
                Files.deleteIfExists(payload);
            } catch (IOException ignored) {
                // a temporary file
            }
        }
    }

    /**
     * Sends payload from a to b over TCP and checks what arrived; returns when the sender started and when the
     * receiver had it all (Unix milliseconds).
     */
    private static long[] transfer(Pair p, Path payload) {
        try (Shell.Background receiver = p.b.receiveTcp(TCP_PORT)) {
            assertTrue(Shell.eventually(10, () -> p.b.listensOnTcp(TCP_PORT)), p + ": no TCP listener on b");
            long start = System.currentTimeMillis();
            p.a.host.sh(p.a.host.tcpSendCommand(p.b.inner4, TCP_PORT) + " < " + payload, TRANSFER_TIMEOUT_SECONDS)
                    .orFail(p + ": send " + TRANSFER_MB + " MB");
            Node.Digest got = Node.Digest.parse(receiver.await(TRANSFER_TIMEOUT_SECONDS), p + ": receive");
            long end = System.currentTimeMillis();
            assertEquals(new Node.Digest(Files.size(payload), sha256(payload)), got, p + ": what arrived");
            return new long[] {start, end};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double megabytesPerSecond(long[] transfer) {
        return TRANSFER_MB / ((transfer[1] - transfer[0]) / 1e3);
    }

    /** The relay's counts once it has printed them after everything so far (it prints every half second). */
    private static ReorderingRelay.Stats settledStats(ReorderingRelay relay) {
        sleep(600);
        return relay.stats();
    }

    // ---- shared ----

    /** What one fault cost: seconds to the first answered ping, pings lost in the AFTER_MS after that. */
    private record Recovery(double seconds, int lost, String note) {
        Recovery noting(String note) {
            return new Recovery(seconds, lost, note);
        }

        String describe() {
            return String.format(Locale.ROOT, "recovered %s %s; %d pings lost in the %.0f s after",
                    Double.isNaN(seconds) ? "never" : String.format(Locale.ROOT, "%.3f s", seconds), note, lost,
                    AFTER_MS / 1e3);
        }
    }

    private interface Scenario {
        Recovery run(Implementation a, Implementation b);
    }

    /**
     * Runs scenario for a → b; the control's run keeps its figures for the pairings after it (or, if this run selected
     * no control, one is made now). Asserts recovery within limit and within the margin of the control's.
     */
    private static void checkRecovery(String scenario, Implementation a, Implementation b, double limit, Scenario run) {
        boolean control = isControl(a, b);
        Recovery r = run.run(a, b);
        if (control) {
            CONTROL_RECOVERY.put(scenario, r);
        }
        Supplier<Recovery> measureControl = () -> run.run(Implementation.wireguardGo(), Implementation.wireguardGo());
        Recovery c = control ? r : CONTROL_RECOVERY.computeIfAbsent(scenario, k -> measureControl.get());
        double allowed = c.seconds * CONTROL_FACTOR + CONTROL_SLACK_SECONDS;
        record(scenario, a, b, r.describe() + (control ? "" : String.format(Locale.ROOT,
                "; control %.3f s, %d lost; allowed ≤ %.3f s, %d lost", c.seconds, c.lost, allowed,
                c.lost + LOSS_SLACK)));
        String what = a + " → " + b + ", " + scenario;
        assertTrue(r.seconds <= limit, what + ": " + r.describe() + " (the protocol allows " + limit + " s)");
        if (!control && !Double.isNaN(c.seconds)) {
            assertTrue(r.seconds <= allowed, what + ": " + r.describe() + "; the control recovered in " + c.seconds
                    + " s, so at most " + allowed + " s");
            assertTrue(r.lost <= c.lost + LOSS_SLACK, what + ": " + r.lost + " pings lost after recovery, the control "
                    + c.lost);
        }
    }

    private static boolean isControl(Implementation a, Implementation b) {
        String control = Implementation.wireguardGo().name();
        return a.name().equals(control) && b.name().equals(control);
    }

    /**
     * A pair as {@link Pair#of} makes it, with a session, then persistent keepalive on both sides (0: none). Only then:
     * switched on at once, it makes both sides initiate at the same moment, and initiations that cross are each
     * answered by the other side, whose own handshake that answer replaces, so neither completes until a retransmission
     * 5 s later. That belongs to the set-up, not to the fault.
     */
    private static Pair pair(Implementation a, Implementation b, int keepalive) {
        Pair p = Pair.hosts(NAMES, a, b);
        try {
            p.a.up();
            p.b.up();
            p.a.addPeer(p.b, false, null);
            p.b.addPeer(p.a, false, null);
            assertTrue(p.a.awaitPing(p.b.inner4, 10), p + ": no ping reply before the fault");
            keepalive(p.a, p.b, keepalive);
            keepalive(p.b, p.a, keepalive);
            return p;
        } catch (RuntimeException | AssertionError e) {
            p.close();
            throw e;
        }
    }

    private static void keepalive(Node node, Node peer, int seconds) {
        if (seconds > 0) {
            node.wg("set", node.ifname, "peer", peer.publicKey, "persistent-keepalive", Integer.toString(seconds))
                    .orFail("persistent-keepalive on " + node);
        }
    }

    /** peer as node's peer at endpoint (address:port), with its inner addresses. */
    private static void peer(Node node, Node peer, String endpoint) {
        node.wg("set", node.ifname, "peer", peer.publicKey, "allowed-ips", peer.inner4 + "/32," + peer.inner6 + "/128",
                "endpoint", endpoint).orFail("peer on " + node);
    }

    /** Waits until a second of pings has been answered, so that the fault hits a tunnel in use. */
    private static void awaitFlowing(Pair p, ContinuousPing ping) {
        assertTrue(Shell.eventually(15, () -> ping.replies().size() >= 10), p + ": pings not flowing before the fault ("
                + ping.replies().size() + " replies)");
    }

    /** Recovery after atMillis, and the loss in the AFTER_MS that follow it (waited for here). */
    private static Recovery measure(Pair p, ContinuousPing ping, long atMillis) {
        double seconds = ping.awaitRecovery(atMillis, (int) Math.ceil(SILENT_RESTART_LIMIT) + 5);
        if (Double.isNaN(seconds)) {
            return new Recovery(seconds, 0, "");
        }
        long recovered = atMillis + Math.round(seconds * 1000);
        sleep(recovered + AFTER_MS + 1000 - System.currentTimeMillis());   // a second more for the last replies
        return new Recovery(seconds, ping.lost(recovered, recovered + AFTER_MS), "");
    }

    /** Both daemons still the same processes, and each one answers wg show. */
    private static void assertSurvived(Pair p, long pidA, long pidB) {
        assertEquals(pidA, p.a.daemonPid(), p + ": a's daemon is not the process it was");
        assertEquals(pidB, p.b.daemonPid(), p + ": b's daemon is not the process it was");
        assertTrue(p.a.alive() && p.b.alive(), p + ": wg show fails");
    }

    private static void signal(String signal, long pid) {
        Shell.run("kill", "-" + signal, Long.toString(pid)).orFail("kill -" + signal + " " + pid);
    }

    /** Prints one line of figures and appends it to target/faults.txt. */
    private static void record(String scenario, Implementation a, Implementation b, String figures) {
        String line = String.format(Locale.ROOT, "%s%s | %s → %s | %s", FULL ? "[full] " : "", scenario, a, b,
                figures);
        RESULTS.record(line);
    }

    private static Path randomFile(int megabytes) {
        try {
            Path f = Files.createTempFile("jwg-faults", ".bin");
            byte[] chunk = new byte[1 << 20];
            Random random = new Random();
            for (int i = 0; i < megabytes; i++) {
                random.nextBytes(chunk);
                Files.write(f, chunk, StandardOpenOption.APPEND);
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    digest.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
