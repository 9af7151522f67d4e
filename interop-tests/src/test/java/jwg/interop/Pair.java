package jwg.interop;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Two hosts, a and b, in namespaces of their own joined by a veth pair (IPv4 10.99.0.0/24 and IPv6 fd99::/64
 * underlay), each running a WireGuard implementation, each the other's peer. Nothing is configured to initiate:
 * the first packet sent decides who does.
 */
final class Pair implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    final Node a;
    final Node b;

    private Pair(Node a, Node b) {
        this.a = a;
        this.b = b;
    }

    /**
     * The pairings (a, b) every peer scenario runs for: jwg with wireguard-go in both orders, and jwg with itself.
     * For {@code @MethodSource("jwg.interop.Pair#pairings")}.
     */
    static Stream<Arguments> pairings() {
        return Stream.of(
                Arguments.of(Implementation.jwg(), Implementation.wireguardGo()),
                Arguments.of(Implementation.wireguardGo(), Implementation.jwg()),
                Arguments.of(Implementation.jwg(), Implementation.jwg()));
    }

    static Pair of(Implementation implA, Implementation implB) {
        return of(implA, implB, false, null);
    }

    /** ipv6Underlay: the peers reach each other over IPv6; psk: a preshared key for both, or null. */
    static Pair of(Implementation implA, Implementation implB, boolean ipv6Underlay, String psk) {
        Pair pair = hosts(implA, implB);
        try {
            pair.a.up();
            pair.b.up();
            pair.a.addPeer(pair.b, ipv6Underlay, psk);
            pair.b.addPeer(pair.a, ipv6Underlay, psk);
            return pair;
        } catch (RuntimeException | AssertionError e) {
            pair.close();
            throw e;
        }
    }

    /**
     * Only the two hosts: namespaces jwgiNa and jwgiNb joined by vethNa-vethNb with the underlay addresses. Neither
     * implementation is started ({@link Node#up}), so a test can set up a side its own way.
     */
    static Pair hosts(Implementation implA, Implementation implB) {
        Environment.requireRoot();
        int n = SEQUENCE.incrementAndGet();
        Netns nsA = new Netns("jwgi" + n + "a");
        Netns nsB = new Netns("jwgi" + n + "b");
        Shell.run("ip", "link", "add", "veth" + n + "a", "netns", nsA.name, "type", "veth", "peer", "name",
                "veth" + n + "b", "netns", nsB.name).orFail("veth");
        Node a = new Node(nsA, implA, "wgi" + n + "a", "veth" + n + "a", 1, 51820);
        Node b = new Node(nsB, implB, "wgi" + n + "b", "veth" + n + "b", 2, 51821);
        Pair pair = new Pair(a, b);
        try {
            for (Node node : new Node[] {a, b}) {
                node.ns.exec("ip", "addr", "add", node.underlay4 + "/24", "dev", node.veth).orFail("underlay IPv4");
                node.ns.exec("ip", "addr", "add", node.underlay6 + "/64", "dev", node.veth, "nodad")
                        .orFail("underlay IPv6");
                node.ns.exec("ip", "link", "set", node.veth, "up").orFail("veth up");
            }
            return pair;
        } catch (RuntimeException | AssertionError e) {
            pair.close();
            throw e;
        }
    }

    @Override
    public void close() {
        a.ns.close();
        b.ns.close();
    }

    @Override
    public String toString() {
        return a.impl.name() + " <-> " + b.impl.name();
    }
}
