package jwg.interop;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Two hosts, a and b, in namespaces of their own (or one of them in the kernel guest) joined by a veth pair (IPv4
 * 10.99.0.0/24 and IPv6 fd99::/64 underlay), each running a WireGuard implementation, each the other's peer. Nothing
 * is configured to initiate: the first packet sent decides who does.
 */
final class Pair implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    /** Held by a pairing with the kernel for as long as it runs: its guest is one host, which a pair resets. */
    private static final ReentrantLock GUEST = new ReentrantLock();

    final Node a;
    final Node b;

    private Pair(Node a, Node b) {
        this.a = a;
        this.b = b;
    }

    /**
     * The pairings (a, b) every peer scenario runs for: the implementation under test ({@link Implementation#subject},
     * jwg unless told otherwise) with wireguard-go in both orders, and with itself.
     * For {@code @MethodSource("jwg.interop.Pair#pairings")}.
     */
    static Stream<Arguments> pairings() {
        Implementation subject = Implementation.subject();
        Implementation wireguardGo = Implementation.wireguardGo();
        return distinct(new Implementation[][] {{subject, wireguardGo}, {wireguardGo, subject}, {subject, subject}});
    }

    /**
     * The pairings with the Linux kernel's WireGuard: the implementation under test on either side, then
     * wireguard-go on either side as the control that proves the harness. For
     * {@code @MethodSource("jwg.interop.Pair#kernelPairings")}.
     */
    static Stream<Arguments> kernelPairings() {
        Implementation subject = Implementation.subject();
        Implementation wireguardGo = Implementation.wireguardGo();
        Implementation kernel = Implementation.kernel();
        return distinct(new Implementation[][] {
                {subject, kernel}, {kernel, subject}, {wireguardGo, kernel}, {kernel, wireguardGo}});
    }

    /** The implementation under test alone, then wireguard-go as the control: for scenarios without a peer. */
    static Stream<Arguments> alone() {
        Implementation subject = Implementation.subject();
        Implementation wireguardGo = Implementation.wireguardGo();
        return (subject.name().equals(wireguardGo.name()) ? Stream.of(subject) : Stream.of(subject, wireguardGo))
                .map(Arguments::of);
    }

    /**
     * The kernel pairings of a scenario that waits out a protocol timer, for which the kernel's pairings take turns on
     * its one guest (RekeyIT: over two minutes each). Without {@code -Djwg.interop.full=true} (which
     * {@code interop-tests/run} gives) only the implementation under test meets the kernel: wireguard-go with the
     * kernel, the control that tells a broken harness from a broken subject, is left to the full run. In CI those two
     * controls took 4.5 of the 9 minutes RekeyIT took, and of the 47 the whole run took.
     */
    static Stream<Arguments> kernelPairingsOfLongScenarios() {
        if (Environment.FULL) {
            return kernelPairings();
        }
        String subject = Implementation.subject().name();
        return kernelPairings().filter(args -> Stream.of(args.get())
                .anyMatch(i -> ((Implementation) i).name().equals(subject)));
    }

    /** A scenario of a pairing, for tests whose pairings run side by side: those with the kernel take turns. */
    interface Scenario {
        void run(Implementation a, Implementation b) throws Exception;
    }

    /** Runs scenario for (a, b), holding the kernel guest first when either side is the kernel. */
    static void inTurn(Implementation a, Implementation b, Scenario scenario) throws Exception {
        boolean guest = a.isKernel() || b.isKernel();
        if (guest) {
            GUEST.lock();
        }
        try {
            scenario.run(a, b);
        } finally {
            if (guest) {
                GUEST.unlock();
            }
        }
    }

    /** The kernel pairings where the kernel is b (the side a scenario acts on), for scenarios only a namespace can drive. */
    static Stream<Arguments> kernelAsB() {
        return kernelPairings().filter(args -> ((Implementation) args.get()[1]).isKernel());
    }

    /**
     * Each pairing once, by name: with wireguard-go under test, "it and wireguard-go" is "it and itself" (whatever
     * path names its command).
     */
    static Stream<Arguments> distinct(Implementation[][] pairs) {
        Set<String> seen = new HashSet<>();
        return Stream.of(pairs).filter(p -> seen.add(p[0].name() + " → " + p[1].name()))
                .map(p -> Arguments.of(p[0], p[1]));
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
     * Only the two hosts: namespaces jwgiNa and jwgiNb (jwgkNa, jwgkNb with the kernel) joined by a veth with the
     * underlay addresses. Neither implementation is started ({@link Node#up}), so a test can set up a side its own way.
     * A kernel side that this machine's kernel cannot carry is the QEMU guest instead of a namespace: the veth's end
     * then goes to the guest's namespace, bridged to the guest's eth0 (one guest, so only one such side).
     */
    static Pair hosts(Implementation implA, Implementation implB) {
        return hosts(null, implA, implB);
    }

    /**
     * {@link #hosts(Implementation, Implementation)} with tag after "jwg" and "wg" in the namespace and interface names
     * (null: "k" or "i" as there): a suite run at the same time as others keeps its names apart with a tag of its own.
     */
    static Pair hosts(String tag, Implementation implA, Implementation implB) {
        Environment.requireRoot();
        boolean kernel = implA.isKernel() || implB.isKernel();
        if (kernel) {
            Environment.requireKernelPeer();
        }
        if (implA.isKernel() && implB.isKernel() && KernelGuest.needed()) {
            throw new IllegalArgumentException("one kernel guest: it can be only one side of a pair");
        }
        String n = (tag != null ? tag : kernel ? "k" : "i") + SEQUENCE.incrementAndGet();
        Host hostA = host(implA, "jwg" + n + "a");
        Host hostB = host(implB, "jwg" + n + "b");
        Netns nsA = hostA instanceof KernelGuest guest ? guest.ns : (Netns) hostA;
        Netns nsB = hostB instanceof KernelGuest guest ? guest.ns : (Netns) hostB;
        Shell.run("ip", "link", "add", "veth" + n + "a", "netns", nsA.name, "type", "veth", "peer", "name",
                "veth" + n + "b", "netns", nsB.name).orFail("veth");
        Node a = new Node(nsA, hostA, implA, "wg" + n + "a", underlayDevice(hostA, "veth" + n + "a"), 1, 51820);
        Node b = new Node(nsB, hostB, implB, "wg" + n + "b", underlayDevice(hostB, "veth" + n + "b"), 2, 51821);
        Pair pair = new Pair(a, b);
        try {
            pair.underlay(a, "veth" + n + "a");
            pair.underlay(b, "veth" + n + "b");
            return pair;
        } catch (RuntimeException | AssertionError e) {
            pair.close();
            throw e;
        }
    }

    /** The kernel's WireGuard lives in the QEMU guest where this machine's kernel has none, else in a namespace. */
    private static Host host(Implementation impl, String namespace) {
        return impl.isKernel() && KernelGuest.needed() ? KernelGuest.shared() : new Netns(namespace);
    }

    private static String underlayDevice(Host host, String veth) {
        return host instanceof KernelGuest ? "eth0" : veth;
    }

    /** Gives node its underlay addresses, on its end of the veth or, for the guest, on eth0 behind it. */
    private void underlay(Node node, String veth) {
        if (node.host instanceof KernelGuest guest) {
            guest.attach(veth, node.underlay4, node.underlay6);
            return;
        }
        node.ns.exec("ip", "addr", "add", node.underlay4 + "/24", "dev", veth).orFail("underlay IPv4");
        node.ns.exec("ip", "addr", "add", node.underlay6 + "/64", "dev", veth, "nodad").orFail("underlay IPv6");
        node.ns.exec("ip", "link", "set", veth, "up").orFail("veth up");
    }

    /** Deletes the namespaces the pair made (with their veth); the kernel guest stays for the next test. */
    @Override
    public void close() {
        for (Node node : new Node[] {a, b}) {
            if (node.host == node.ns) {
                node.ns.close();
            }
        }
    }

    @Override
    public String toString() {
        return a.impl.name() + " <-> " + b.impl.name();
    }
}
