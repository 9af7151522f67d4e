package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A daemon started before its namespace has any network, as at boot or in a fresh container: a's namespace is as the
 * kernel makes it (loopback down, not one IPv6 address, not even ::1) when a starts, and loopback stays down. Only
 * then does a get its veth to b, with underlay addresses of both families, and b (wireguard-go) its configuration.
 * Its UDP socket must still reach IPv6 endpoints, and IPv4 ones as before. a = wireguard-go is the control.
 */
class DualStackIT {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    /** (a, b): a is the implementation under test, then wireguard-go as the control; b is always wireguard-go. */
    static Stream<Arguments> startedBeforeTheNetwork() {
        return Pair.alone().map(args -> Arguments.of(args.get()[0], Implementation.wireguardGo()));
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("started before the network: IPv6 underlay (outer)")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("startedBeforeTheNetwork")
    void aDaemonStartedWithoutIpv6ReachesAnIpv6EndpointConfiguredLater(Implementation a, Implementation b) {
        pingBothWays(a, b, true);
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("started before the network: IPv4 underlay (outer)")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("startedBeforeTheNetwork")
    void aDaemonStartedWithoutIpv6StillReachesAnIpv4Endpoint(Implementation a, Implementation b) {
        pingBothWays(a, b, false);
    }

    private static void pingBothWays(Implementation implA, Implementation implB, boolean ipv6Underlay) {
        int n = SEQUENCE.incrementAndGet();
        String tag = "ds" + n;
        try (Netns nsA = bareNamespace("jwg" + tag + "a"); Netns nsB = new Netns("jwg" + tag + "b")) {
            Node a = new Node(nsA, nsA, implA, "wg" + tag + "a", "veth" + tag + "a", 1, 51820);
            Node b = new Node(nsB, nsB, implB, "wg" + tag + "b", "veth" + tag + "b", 2, 51821);

            implA.start(nsA, a.ifname);
            // The point of the test: nothing of IPv6 existed when a chose its socket.
            assertEquals("", nsA.exec("cat", "/proc/net/if_inet6").orFail("if_inet6").out().trim(),
                    "IPv6 addresses in a's namespace when " + implA + " started");

            Shell.run("ip", "link", "add", a.veth, "netns", nsA.name, "type", "veth", "peer", "name", b.veth,
                    "netns", nsB.name).orFail("veth");
            for (Node node : new Node[] {a, b}) {
                node.ns.exec("ip", "addr", "add", node.underlay4 + "/24", "dev", node.veth).orFail("underlay IPv4");
                node.ns.exec("ip", "addr", "add", node.underlay6 + "/64", "dev", node.veth, "nodad")
                        .orFail("underlay IPv6");
                node.ns.exec("ip", "link", "set", node.veth, "up").orFail("veth up");
            }
            b.up();
            // What Node.up does after starting the daemon, which a already is.
            a.setKeyAndPort();
            nsA.exec("ip", "addr", "add", a.inner4 + "/24", "dev", a.ifname).orFail("inner IPv4");
            nsA.exec("ip", "addr", "add", a.inner6 + "/64", "dev", a.ifname).orFail("inner IPv6");
            nsA.exec("ip", "link", "set", a.ifname, "up").orFail("link up");
            a.addPeer(b, ipv6Underlay, null);
            b.addPeer(a, ipv6Underlay, null);

            String what = implA + " → " + implB + " over " + (ipv6Underlay ? "IPv6" : "IPv4");
            String lo = nsA.exec("ip", "-o", "link", "show", "dev", "lo").out();
            assertTrue(lo.contains("state DOWN"), "a's loopback must stay down: " + lo);
            assertTrue(a.ping(b.inner4, 3), () -> what + ": IPv4 ping from a" + diagnosis(a));
            assertTrue(b.ping(a.inner4, 3), () -> what + ": IPv4 ping from b" + diagnosis(a));
            assertTrue(a.ping(b.inner6, 3), () -> what + ": IPv6 ping from a" + diagnosis(a));
            assertTrue(b.ping(a.inner6, 3), () -> what + ": IPv6 ping from b" + diagnosis(a));
            // IPv4 peers of a dual-stack socket must look like plain IPv4, never ::ffff:a.b.c.d.
            assertEquals(endpoint(b, ipv6Underlay), a.endpointOf(b), what + ": a's endpoint for b");
            assertEquals(endpoint(a, ipv6Underlay), b.endpointOf(a), what + ": b's endpoint for a");
        }
    }

    /**
     * A namespace as {@code ip netns add} leaves it: loopback down, no addresses at all ({@link Netns}'s constructor
     * would bring loopback up, and with it ::1). Closing it still ends its processes and deletes it.
     */
    private static Netns bareNamespace(String name) {
        Netns ns = Netns.adopt(name);
        ns.close();   // one of that name left over from an interrupted run
        Shell.run("ip", "netns", "add", name).orFail("ip netns add " + name);
        return ns;
    }

    private static String endpoint(Node node, boolean ipv6) {
        return (ipv6 ? "[" + node.underlay6 + "]" : node.underlay4) + ":" + node.port;
    }

    /** a's UDP sockets (their family shows in the local address) and the end of its log, for a failure message. */
    private static String diagnosis(Node a) {
        return "\na's UDP sockets:\n" + a.ns.exec("ss", "-uanp").out() + "a's log:\n"
                + Shell.tail(Implementation.logFile(a.ifname));
    }
}
