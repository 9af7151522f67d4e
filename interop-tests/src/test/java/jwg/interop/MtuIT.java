package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tunnel MTUs from IPv6's minimum up to nearly the largest IP packet carry full-size packets: for each MTU, pings
 * over IPv4 and IPv6 that fill it exactly, with don't-fragment so that nothing inside the tunnel can make them
 * smaller, and a TCP transfer, whose segments the kernel sizes from the tunnel's MTU, must get through. Each underlay
 * is one tunnel whose MTU changes in place: a daemon restart per MTU would add start-up time and test nothing more.
 * <ul>
 *   <li>a veth with jumbo frames (MTU 9000): tunnel MTUs above 8920 make datagrams that IP fragments and reassembles
 *       on the way, so the receiving socket gets them whole, up to 65,032 bytes;</li>
 *   <li>loopback (MTU 65536), over 127.0.0.1 and over ::1: both daemons run in one namespace and each one's TUN
 *       device is moved into a namespace of its own, so their traffic can only meet through the daemons' UDP sockets
 *       on lo, where even a 65000-byte tunnel MTU's datagrams pass unfragmented.</li>
 * </ul>
 */
class MtuIT {
    private static final int[] TUNNEL_MTUS = {1280, 1420, 8920, 16000, 34000, 65000};
    private static final int VETH_MTU = 9000;
    /** ping's payload: the MTU less the IPv4 header (20) and ICMP's (8), or the IPv6 header (40) and ICMPv6's (8). */
    private static final int IPV4_PING_OVERHEAD = 28;
    private static final int IPV6_PING_OVERHEAD = 48;
    private static final int TCP_PORT = 5003;
    private static final long TCP_BYTES = 20L << 20;
    /** No byte arriving for this long is a stall: a healthy transfer moves megabytes a second. */
    private static final int STALL_SECONDS = 5;
    /** The whole transfer's limit, even while it crawls on. */
    private static final int TRANSFER_SECONDS = 30;
    private static final Pattern PING_SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final Pattern MSS = Pattern.compile("\\bmss:(\\d+)");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("ncat");
        Environment.requireTool("ss");
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("tunnel MTUs 1280-65000: full-size ping and TCP over a veth with MTU 9000")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("jwg.interop.Pair#pairings")
    void everyTunnelMtuCarriesFullSizePingsAndTcpOverAJumboFrameVeth(Implementation a, Implementation b) {
        try (Pair p = Pair.hosts("mtuv", a, b)) {
            for (Node node : new Node[] {p.a, p.b}) {
                node.ns.exec("ip", "link", "set", "dev", node.veth, "mtu", Integer.toString(VETH_MTU))
                        .orFail("veth MTU " + VETH_MTU);
            }
            p.a.up();
            p.b.up();
            p.a.addPeer(p.b, false, null);
            p.b.addPeer(p.a, false, null);
            sweep(p.a, p.b, a + " → " + b + " over a veth (MTU " + VETH_MTU + ")");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("tunnel MTUs 1280-65000: full-size ping and TCP over loopback 127.0.0.1")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("jwg.interop.Pair#pairings")
    void everyTunnelMtuCarriesFullSizePingsAndTcpOverIpv4Loopback(Implementation a, Implementation b) {
        try (Loopback l = Loopback.of(a, b, "127.0.0.1")) {
            sweep(l.a, l.b, a + " → " + b + " over loopback 127.0.0.1");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("tunnel MTUs 1280-65000: full-size ping and TCP over loopback ::1")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("jwg.interop.Pair#pairings")
    void everyTunnelMtuCarriesFullSizePingsAndTcpOverIpv6Loopback(Implementation a, Implementation b) {
        try (Loopback l = Loopback.of(a, b, "[::1]")) {
            sweep(l.a, l.b, a + " → " + b + " over loopback ::1");
        }
    }

    /**
     * Sets each tunnel MTU on both sides, then pings b from a at full size over IPv4 and IPv6 and sends TCP_BYTES
     * from a to b. Every MTU is tried whatever the ones before it did, so a failure names all the MTUs that fail and
     * what each one saw.
     */
    private static void sweep(Node a, Node b, String what) {
        // A handshake and a working tunnel at the default MTU first: otherwise every MTU would fail for that reason.
        assertTrue(a.awaitPing(b.inner4, 10), what + ": no ping reply through the tunnel even at its default MTU"
                + logs(a, b));
        // Zeros: WireGuard encrypts them like anything else, and TCP's checksum and the byte count catch a mangling.
        Path payload = temporaryFile("jwg-mtu-payload");
        try {
            Files.write(payload, new byte[(int) TCP_BYTES]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<Integer, String> failures;
        try {
            failures = everyMtu(a, b, what, payload);
        } finally {
            delete(payload);
        }
        if (!failures.isEmpty()) {
            // The first line is what the matrix shows: which MTUs, and what the first of them saw.
            List<String> lines = new ArrayList<>();
            failures.forEach((mtu, seen) -> lines.add("MTU " + mtu + ": " + seen));
            fail(what + ": tunnel MTU " + failures.keySet() + " failed (of " + TUNNEL_MTUS.length + "); "
                    + lines.get(0) + "\n" + String.join("\n", lines) + logs(a, b));
        }
    }

    /** What went wrong at each MTU that failed, in the order tried. */
    private static Map<Integer, String> everyMtu(Node a, Node b, String what, Path payload) {
        Map<Integer, String> failures = new LinkedHashMap<>();
        for (int mtu : TUNNEL_MTUS) {
            setMtu(a, mtu);
            setMtu(b, mtu);
            // One family after the other: with both in flight at once, an echo of 65,000 bytes over the veth was
            // lost now and then (two reassembled 65 KB datagrams queued at once at one receiving socket), which is
            // not what this test is about.
            Ping ping4 = ping(a, b.inner4, mtu - IPV4_PING_OVERHEAD, "-4");
            Ping ping6 = ping(a, b.inner6, mtu - IPV6_PING_OVERHEAD, "-6");
            Transfer tcp = transfer(a, b, payload);
            List<String> seen = new ArrayList<>();
            for (Ping ping : new Ping[] {ping4, ping6}) {
                if (!ping.answered()) {
                    seen.add(ping.said());
                }
            }
            if (tcp.failure() != null) {
                seen.add(tcp.failure());
            }
            System.out.printf(Locale.ROOT, "%s, tunnel MTU %d: %s; %s; %s%n", what, mtu, ping4.said(), ping6.said(),
                    tcp.failure() != null ? tcp.failure() : tcp.summary());
            if (!seen.isEmpty()) {
                failures.put(mtu, String.join("; ", seen));
            }
        }
        return failures;
    }

    private static void setMtu(Node node, int mtu) {
        node.host.exec("ip", "link", "set", "dev", node.ifname, "mtu", Integer.toString(mtu))
                .orFail("MTU " + mtu + " on " + node.ifname + " (" + node.impl + ")");
    }

    /** What a full-size ping saw: answered if any reply came back (ping's exit status), said for the report. */
    private record Ping(boolean answered, String said) {}

    /**
     * Three echo requests of size bytes with don't-fragment, from from to address (family -4 or -6). One reply is
     * enough (ping's own verdict): a size the tunnel cannot carry loses every one, while a single loss on a busy
     * machine says nothing about the MTU.
     */
    private static Ping ping(Node from, String address, int size, String family) {
        Shell.Result r = from.host.exec(30, "ping", family, "-M", "do", "-s", Integer.toString(size), "-c", "3",
                "-i", "0.2", "-W", "2", address);
        Matcher summary = PING_SUMMARY.matcher(r.out());
        // How many were answered, or why ping gave up before sending (e.g. "message too long" if the MTU did not
        // apply).
        String said = summary.find() ? summary.group(2) + " of " + summary.group(1) + " answered"
                : r.out().strip().lines().reduce((x, y) -> y).orElse("exit " + r.exit());
        return new Ping(r.exit() == 0, "IPv" + family.charAt(1) + " ping -M do -s " + size + ": " + said);
    }

    /** A TCP transfer's outcome: failure null if every byte arrived, else what went wrong. */
    private record Transfer(String failure, String summary) {}

    /**
     * Sends TCP_BYTES from a to b's inner IPv4 address with ncat. b writes what arrives to a file (the namespaces
     * share this machine's file system), whose size shows the progress: a transfer that gains nothing for
     * STALL_SECONDS has stalled (segments of the tunnel's MTU do not get through) and ends there, rather than at
     * TRANSFER_SECONDS.
     */
    private static Transfer transfer(Node a, Node b, Path payload) {
        Path file = temporaryFile("jwg-mtu-received");
        // exec: the background process is ncat itself, so closing it ends the transfer (a stalled one too) and
        // frees the port for the next MTU.
        try (Shell.Background receiver = b.host.spawnSh("exec " + b.host.tcpReceiveCommand(TCP_PORT) + " > " + file)) {
            assertTrue(Shell.eventually(10, () -> b.listensOnTcp(TCP_PORT)),
                    "nothing listens on TCP port " + TCP_PORT + " in " + b.host.name());
            long start = System.nanoTime();
            try (Shell.Background sender = a.host.spawnSh("exec " + a.host.tcpSendCommand(b.inner4, TCP_PORT) + " < "
                    + payload)) {
                long received = 0;
                long progressAt = start;
                int mss = 0;
                while (true) {
                    long now = System.nanoTime();
                    long size = size(file);
                    if (size > received) {
                        received = size;
                        progressAt = now;
                    }
                    // The sender's segment size, which the kernel derives from the tunnel's MTU but starts lower while
                    // the window is small: the largest seen shows whether full-size segments were sent at all.
                    Matcher m = MSS.matcher(a.host.exec("ss", "-tniH", "dst", b.inner4).out());
                    if (m.find()) {
                        mss = Math.max(mss, Integer.parseInt(m.group(1)));
                    }
                    // The receiver ends once the sender has closed the connection: all of it is in the file then.
                    if (!receiver.isAlive()) {
                        received = size(file);
                        break;
                    }
                    if (now - progressAt > TimeUnit.SECONDS.toNanos(STALL_SECONDS)) {
                        return new Transfer(String.format(Locale.ROOT,
                                "TCP stalled: %d of %d bytes arrived, then nothing for %d s (sender's mss %s)",
                                received, TCP_BYTES, STALL_SECONDS, mss(mss)), null);
                    }
                    if (now - start > TimeUnit.SECONDS.toNanos(TRANSFER_SECONDS)) {
                        return new Transfer(String.format(Locale.ROOT, "TCP too slow: %d of %d bytes in %d s",
                                received, TCP_BYTES, TRANSFER_SECONDS), null);
                    }
                    sleepBriefly();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Shell.Result sent = sender.await(5);
                if (received != TCP_BYTES || sent.exit() != 0) {
                    return new Transfer(String.format(Locale.ROOT, "TCP: %d of %d bytes arrived; sender exited %d%s",
                            received, TCP_BYTES, sent.exit(), sent.out().isBlank() ? "" : ": " + sent.out().strip()),
                            null);
                }
                return new Transfer(null, String.format(Locale.ROOT, "TCP %d MB in %.1f s (sender's mss %s)",
                        TCP_BYTES >> 20, seconds, mss(mss)));
            }
        } finally {
            delete(file);
        }
    }

    private static String mss(int largest) {
        return largest == 0 ? "not seen" : "up to " + largest;
    }

    /** A new file in /tmp, which every namespace sees (ip netns exec changes the network, not the file system). */
    private static Path temporaryFile(String prefix) {
        try {
            return Files.createTempFile(prefix, ".bin");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a temporary file
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String logs(Node a, Node b) {
        return "\na's log (" + a.impl + "):\n" + Shell.tail(Implementation.logFile(a.ifname))
                + "\nb's log (" + b.impl + "):\n" + Shell.tail(Implementation.logFile(b.ifname));
    }

    /**
     * Two daemons in one namespace, talking over its loopback device; each one's TUN device moved into a namespace
     * of its own (a's, b's), where it gets its inner addresses. Closing it ends the daemons and deletes all three.
     */
    private record Loopback(Netns under, Node a, Node b) implements AutoCloseable {
        /** endpointHost: 127.0.0.1, or [::1] (as an endpoint spells it). */
        static Loopback of(Implementation implA, Implementation implB, String endpointHost) {
            Environment.requireRoot();
            String tag = "mtul" + SEQUENCE.incrementAndGet();
            Netns under = new Netns("jwg" + tag + "u");
            Netns nsA = null;
            Netns nsB = null;
            try {
                nsA = new Netns("jwg" + tag + "a");
                nsB = new Netns("jwg" + tag + "b");
                Node a = new Node(nsA, nsA, implA, "wg" + tag + "a", "lo", 1, 51820);
                Node b = new Node(nsB, nsB, implB, "wg" + tag + "b", "lo", 2, 51821);
                Loopback l = new Loopback(under, a, b);
                for (Node node : new Node[] {a, b}) {
                    node.impl.start(under, node.ifname);
                    // Configured before the move, because wg's answer is the only sign that the daemon has finished
                    // starting: wireguard-go's background child still has to look the device up by name in the
                    // namespace it runs in, and one that finds it gone exits. wg reaches the daemon through its
                    // socket under /var/run/wireguard from any namespace.
                    node.setKeyAndPort();
                    // The daemon keeps its device's file descriptor, so it reads and writes the device wherever it is.
                    under.exec("ip", "link", "set", node.ifname, "netns", node.ns.name)
                            .orFail("moving " + node.ifname + " into " + node.ns.name);
                    node.host.exec("ip", "addr", "add", node.inner4 + "/24", "dev", node.ifname).orFail("inner IPv4");
                    node.host.exec("ip", "addr", "add", node.inner6 + "/64", "dev", node.ifname).orFail("inner IPv6");
                    node.host.exec("ip", "link", "set", node.ifname, "up").orFail("link up");
                }
                a.wg("set", a.ifname, "peer", b.publicKey, "allowed-ips", b.inner4 + "/32," + b.inner6 + "/128",
                        "endpoint", endpointHost + ":" + b.port).orFail("wg set peer on " + a.impl);
                b.wg("set", b.ifname, "peer", a.publicKey, "allowed-ips", a.inner4 + "/32," + a.inner6 + "/128",
                        "endpoint", endpointHost + ":" + a.port).orFail("wg set peer on " + b.impl);
                return l;
            } catch (RuntimeException | AssertionError e) {
                under.close();
                if (nsA != null) {
                    nsA.close();
                }
                if (nsB != null) {
                    nsB.close();
                }
                throw e;
            }
        }

        @Override
        public void close() {
            // The daemons live in under: ending them removes their TUN devices from a's and b's namespaces too.
            under.close();
            a.ns.close();
            b.ns.close();
        }
    }
}
