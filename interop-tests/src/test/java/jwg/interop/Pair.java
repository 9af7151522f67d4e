package jwg.interop;

import java.util.concurrent.atomic.AtomicInteger;

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

    static Pair of(Implementation implA, Implementation implB) {
        return of(implA, implB, false, null);
    }

    /** ipv6Underlay: the peers reach each other over IPv6; psk: a preshared key for both, or null. */
    static Pair of(Implementation implA, Implementation implB, boolean ipv6Underlay, String psk) {
        Environment.requireRoot();
        int n = SEQUENCE.incrementAndGet();
        Netns nsA = new Netns("jwgi" + n + "a");
        Netns nsB = new Netns("jwgi" + n + "b");
        Shell.run("ip", "link", "add", "veth" + n + "a", "netns", nsA.name, "type", "veth", "peer", "name",
                "veth" + n + "b", "netns", nsB.name).orFail("veth");
        Node a = new Node(nsA, implA, "wgi" + n + "a", 1, 51820);
        Node b = new Node(nsB, implB, "wgi" + n + "b", 2, 51821);
        Pair pair = new Pair(a, b);
        try {
            for (Node node : new Node[] {a, b}) {
                String veth = "veth" + n + (node == a ? "a" : "b");
                node.ns.exec("ip", "addr", "add", node.underlay4 + "/24", "dev", veth).orFail("underlay IPv4");
                node.ns.exec("ip", "addr", "add", node.underlay6 + "/64", "dev", veth, "nodad").orFail("underlay IPv6");
                node.ns.exec("ip", "link", "set", veth, "up").orFail("veth up");
                node.up();
            }
            a.addPeer(b, ipv6Underlay, psk);
            b.addPeer(a, ipv6Underlay, psk);
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
