package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jwg's UAPI socket as the stock wg and raw clients use it (/work/shared/protocol/uapi.md), compared with
 * wireguard-go where the contract is "what wireguard-go does". No peer daemon is involved: a is jwg, b (when used) is
 * a second daemon in its own namespace.
 */
class UapiIT {
    private static final Implementation JWG = Implementation.jwg();
    private static final Implementation WIREGUARD_GO = Implementation.wireguardGo();

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    /** A configuration with every field wg showconf prints: a fwmark, a preshared key, endpoints of both families. */
    private record Config(String privateKey, String peer1, String psk, String peer2, String peer3) {
        static Config random() {
            return new Config(Node.genkey(), Node.pubkey(Node.genkey()), Node.genpsk(), Node.pubkey(Node.genkey()),
                    Node.pubkey(Node.genkey()));
        }

        /** As wg showconf prints it (its order of sections and keys). */
        String text() {
            return """
                    [Interface]
                    ListenPort = 51820
                    FwMark = 0x1234
                    PrivateKey = %s

                    [Peer]
                    PublicKey = %s
                    PresharedKey = %s
                    AllowedIPs = 10.1.0.0/16, 10.2.3.4/32, fd01::/64, fd02::1/128
                    Endpoint = 10.99.0.200:51820
                    PersistentKeepalive = 25

                    [Peer]
                    PublicKey = %s
                    AllowedIPs = 192.168.7.0/24
                    Endpoint = [fd99::200]:4000

                    [Peer]
                    PublicKey = %s
                    """.formatted(privateKey, peer1, psk, peer2, peer3);
        }
    }

    @Test
    void wgShowAndShowconfDescribeTheConfiguration() throws IOException {
        Config c = Config.random();
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            setconf(p.a, c.text());

            String show = p.a.wg("show", p.a.ifname).orFail("wg show").out();
            for (String expected : List.of("interface: " + p.a.ifname, "public key: " + Node.pubkey(c.privateKey()),
                    "private key: (hidden)", "listening port: 51820", "fwmark: 0x1234", "peer: " + c.peer1(),
                    "preshared key: (hidden)", "endpoint: 10.99.0.200:51820",
                    "allowed ips: 10.1.0.0/16, 10.2.3.4/32, fd01::/64, fd02::1/128",
                    "persistent keepalive: every 25 seconds", "peer: " + c.peer2(), "endpoint: [fd99::200]:4000",
                    "allowed ips: 192.168.7.0/24", "peer: " + c.peer3())) {
                assertTrue(show.contains(expected), "wg show lacks \"" + expected + "\":\n" + show);
            }
            assertEquals(sections(c.text()), sections(showconf(p.a)), "wg showconf after wg setconf");
        }
    }

    /** wg showconf's output, fed to wg setconf on a fresh interface, gives that interface the same wg showconf. */
    @Test
    void showconfRoundTripsThroughSetconfOnAFreshInterface() throws IOException {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            p.b.up();
            setconf(p.a, Config.random().text());
            String original = showconf(p.a);

            // Everything, the private key and listen port included, must carry over: b has its own namespace.
            setconf(p.b, original);

            assertEquals(sections(original), sections(showconf(p.b)), "wg showconf of the fresh interface");
        }
    }

    @Test
    void showconfPrintsWhatWireguardGoPrintsForTheSameConfiguration() throws IOException {
        Config c = Config.random();
        try (Pair p = Pair.hosts(JWG, WIREGUARD_GO)) {
            p.a.up();
            p.b.up();
            setconf(p.a, c.text());
            setconf(p.b, c.text());

            assertEquals(sections(showconf(p.b)), sections(showconf(p.a)), "jwg's wg showconf (vs wireguard-go's)");
        }
    }

    @Test
    void getRepliesWithTheKeysInWireguardGosOrder() throws IOException {
        String config = """
                [Interface]
                PrivateKey = %s
                ListenPort = 51820
                FwMark = 7

                [Peer]
                PublicKey = %s
                PresharedKey = %s
                AllowedIPs = 10.1.0.0/16, fd01::/64
                Endpoint = 10.99.0.200:51820
                PersistentKeepalive = 25
                """.formatted(Node.genkey(), Node.pubkey(Node.genkey()), Node.genpsk());
        try (Pair p = Pair.hosts(JWG, WIREGUARD_GO)) {
            p.a.up();
            p.b.up();
            setconf(p.a, config);
            setconf(p.b, config);

            List<String> jwg = keys(p.a.uapi("get=1\n\n"));
            List<String> wireguardGo = keys(p.b.uapi("get=1\n\n"));

            assertEquals(List.of("private_key", "listen_port", "fwmark", "public_key", "preshared_key",
                    "protocol_version", "endpoint", "last_handshake_time_sec", "last_handshake_time_nsec", "tx_bytes",
                    "rx_bytes", "persistent_keepalive_interval", "allowed_ip", "allowed_ip", "errno"), wireguardGo,
                    "wireguard-go's keys (the reference)");
            assertEquals(wireguardGo, jwg, "jwg's get=1 keys, in order");
            assertTrue(p.a.uapi("get=1\n\n").endsWith("\nerrno=0\n\n"), "jwg's get=1 reply does not end in errno=0");
        }
    }

    /**
     * Raw UAPI: a set with valid lines and then an invalid one is refused with errno=-22 (EINVAL) and, because jwg
     * validates a whole set before applying it, the valid lines before the error change nothing either.
     */
    @Test
    void aSetWithAnInvalidLineIsRefusedWithEinvalAndChangesNothing() throws IOException {
        String peer = Node.hex(Node.pubkey(Node.genkey()));
        String newKey = Node.hex(Node.genkey());
        List<String> invalidSets = List.of(
                "private_key=" + newKey + "\nlisten_port=99999",
                "listen_port=51999\nreplace_peers=false",
                "listen_port=51999\npublic_key=" + peer + "\nallowed_ip=10.5.0.0/16\nprotocol_version=2",
                "listen_port=51999\npublic_key=" + peer + "\nallowed_ip=10.5.0.0/16\nrx_bytes=0",
                "listen_port=51999\npublic_key=" + peer + "\nendpoint=10.99.0.200:51820\nallowed_ip=10.5.0.0/33",
                "listen_port=51999\npublic_key=" + peer + "\nallowed_ip=10.5.0.0/16\nlisten_port=51998");
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            setconf(p.a, Config.random().text());
            String before = showconf(p.a);

            for (String set : invalidSets) {
                String reply = p.a.uapi("set=1\n" + set + "\n\n");

                assertEquals("errno=-22\n\n", reply, "reply to the set\n" + set);
                assertEquals(before, showconf(p.a), "the configuration after the refused set\n" + set);
            }
        }
    }

    /**
     * Framing the stock wg never writes, answered as wireguard-go answers it: an operation line ending in CRLF is no
     * operation (the connection closes without a reply, nothing changes); a CR before a set line's LF is dropped; a
     * line over 64 KiB fails the set with EIO (and 200 of them, 1 MB each, leave the daemon's memory where it was).
     */
    @Test
    void framingWgNeverWritesIsAnsweredAsWireguardGoAnswersIt() {
        String longLine = "allowed_ip=" + "1".repeat(100_000);
        List<String> requests = List.of(
                "set=1\r\nlisten_port=51999\r\n\r\n",
                "get=1\r\n\r\n",
                "set=1\nlisten_port=51998\r\n\n",
                "set=1\n" + longLine + "\nlisten_port=51997\n\n");
        List<String> expected = new ArrayList<>();
        for (Implementation impl : List.of(WIREGUARD_GO, JWG)) {
            List<String> replies = new ArrayList<>();
            try (Pair p = Pair.hosts(impl, JWG)) {
                p.a.up();
                p.a.uapi("set=1\nlisten_port=51990\n\n");
                for (String request : requests) {
                    replies.add(request.substring(0, 8).replace("\r", "\\r").replace("\n", "\\n") + " -> "
                            + p.a.uapi(request).replace("\n", "\\n") + " port " + p.a.show("listen-port").trim());
                }
                if (impl == JWG) {
                    long before = p.a.rssKib();
                    String mb = "set=1\nallowed_ip=" + "1".repeat(1 << 20) + "\n\n";
                    for (int i = 0; i < 200; i++) {
                        assertEquals("errno=-5\n\n", p.a.uapi(mb), "a set with a 1 MB line");
                    }
                    long after = p.a.rssKib();
                    assertTrue(after - before < 16 * 1024, "RSS after 200 sets with a 1 MB line: " + before
                            + " KiB before, " + after + " KiB after");
                }
            }
            if (expected.isEmpty()) {
                expected.addAll(replies);
            } else {
                assertEquals(expected, replies, "jwg's replies (and listen port after each) against wireguard-go's");
            }
        }
    }

    /**
     * The documented difference: wireguard-go applies a set line by line, so what came before the invalid line stays
     * applied (verified with 0.0.20220316). jwg's all-or-nothing set is the stricter of the two; wg sends device keys
     * before peers, so no sequence the stock wg sends can tell them apart except through the daemon's own errors.
     */
    @Test
    void wireguardGoKeepsTheLinesBeforeAnInvalidOne() {
        try (Pair p = Pair.hosts(WIREGUARD_GO, JWG)) {
            p.a.up();

            String reply = p.a.uapi("set=1\nlisten_port=51999\nreplace_peers=false\n\n");

            assertEquals("errno=-22\n\n", reply, "wireguard-go's reply");
            assertEquals("51999", p.a.show("listen-port").trim(), "wireguard-go's listen port after the refused set");
        }
    }

    /**
     * A wg set that the daemon refuses: wg prints the daemon's error and exits 1, and nothing of it is applied.
     * The stock wg validates keys, ports, addresses and endpoints itself, so with a correct daemon the refusal it can
     * provoke is a resource error: the listen port is in use (EADDRINUSE). wg sends the private key before the port;
     * wireguard-go would have applied it (and dropped its old socket: listen port 0 afterwards).
     */
    @Test
    void aWgSetTheDaemonRefusesPrintsItsErrorAndChangesNothing() throws IOException {
        int busyPort = 51999;
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            setconf(p.a, Config.random().text());
            String before = showconf(p.a);
            try (Shell.Background holder = p.a.ns.spawn("python3", "-c", "import socket, time\n"
                    + "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                    + "s.bind(('::', " + busyPort + "))\n"
                    + "time.sleep(60)\n")) {
                assertTrue(Shell.eventually(10, () -> !p.a.ns.exec("ss", "-Hlun", "sport = :" + busyPort).out()
                        .isBlank()), "nothing bound UDP port " + busyPort);

                Shell.Result set = p.a.wg("set", p.a.ifname, "private-key", Node.keyFile(Node.genkey()),
                        "listen-port", Integer.toString(busyPort), "peer", Node.pubkey(Node.genkey()),
                        "allowed-ips", "10.6.0.0/16");

                assertEquals(1, set.exit(), "wg set exit status; output: " + set.out());
                assertTrue(set.out().contains("Address already in use"), "wg set printed: " + set.out());
                assertEquals(before, showconf(p.a), "the configuration after the refused wg set");
            }
        }
    }

    /**
     * Values wireguard-go accepts must not be refused: an IPv4-mapped IPv6 endpoint and allowed IP. The stock wg
     * passes them on as written ("[::ffff:a.b.c.d]:port", "::ffff:a.b.c.d/112"), and wireguard-go shows them so.
     */
    @Test
    void ipv4MappedIpv6EndpointsAndAllowedIpsAreAcceptedAsWireguardGoAcceptsThem() {
        String peer = Node.pubkey(Node.genkey());
        try (Pair p = Pair.hosts(JWG, WIREGUARD_GO)) {
            p.a.up();
            p.b.up();
            for (Node node : List.of(p.a, p.b)) {
                Shell.Result set = node.wg("set", node.ifname, "peer", peer, "endpoint", "[::ffff:10.99.0.200]:51820",
                        "allowed-ips", "::ffff:10.100.0.0/112");
                assertEquals(0, set.exit(), node + ": wg set printed: " + set.out());
            }
            assertEquals(p.b.show("endpoints"), p.a.show("endpoints"), "jwg's endpoints (vs wireguard-go's)");
            assertEquals(p.b.show("allowed-ips"), p.a.show("allowed-ips"), "jwg's allowed IPs (vs wireguard-go's)");
        }
    }

    /**
     * A set far larger than any buffer: one peer with 255 × 256 × 2 allowed IPs (wireguard-tools' netns.sh "split
     * responses" test) applies, wg show lists every one of them, and removing the peer removes them all.
     */
    @Test
    void aPeerWith130560AllowedIpsIsAppliedListedAndRemoved() throws IOException {
        String peer = Node.pubkey(Node.genkey());
        StringBuilder config = new StringBuilder("[Peer]\nPublicKey = " + peer + "\n");
        for (int i = 0; i < 255; i++) {
            for (int j = 0; j < 256; j++) {
                config.append("AllowedIPs = 10.").append(i).append('.').append(j).append(".0/24, fd00:")
                        .append(Integer.toHexString(i)).append(':').append(Integer.toHexString(j)).append("::/48\n");
            }
        }
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            Path file = dir.resolve("huge.conf");
            Files.writeString(file, config);

            Shell.Result set = p.a.ns.exec(300, "wg", "setconf", p.a.ifname, file.toString());
            assertEquals(0, set.exit(), "wg setconf with 130560 allowed IPs: " + set.out());

            String[] listed = p.a.ns.exec(120, "wg", "show", p.a.ifname, "allowed-ips").orFail("wg show allowed-ips")
                    .out().trim().split("\\s+");
            assertEquals(peer, listed[0], "the peer of wg show allowed-ips");
            assertEquals(255 * 256 * 2, listed.length - 1, "allowed IPs listed");
            assertTrue(Arrays.asList(listed).contains("10.254.255.0/24") && Arrays.asList(listed).contains("fd00:fe:ff::/48"),
                    "the last allowed IPs are missing");

            p.a.wg("set", p.a.ifname, "peer", peer, "remove").orFail("wg set peer remove");
            assertEquals("", p.a.show("allowed-ips").trim(), "wg show allowed-ips after the peer was removed");
            assertEquals("", p.a.show("peers").trim(), "wg show peers after the peer was removed");
        }
    }

    private void setconf(Node node, String config) throws IOException {
        Path file = Files.createTempFile(dir, node.ifname, ".conf");
        Files.writeString(file, config);
        node.wg("setconf", node.ifname, file.toString()).orFail("wg setconf on " + node);
    }

    private static String showconf(Node node) {
        return node.wg("showconf", node.ifname).orFail("wg showconf on " + node).out();
    }

    /**
     * The [Interface] section, then the [Peer] sections sorted: neither UAPI nor wireguard-go orders peers
     * (wireguard-go lists them in Go map order, which varies from one call to the next).
     */
    private static List<String> sections(String config) {
        List<String> all = new ArrayList<>(Arrays.stream(config.strip().split("\n\\s*\n")).map(String::strip).toList());
        List<String> peers = new ArrayList<>(all.subList(1, all.size()));
        peers.sort(null);
        List<String> result = new ArrayList<>(List.of(all.get(0)));
        result.addAll(peers);
        return result;
    }

    private static List<String> keys(String reply) {
        return reply.lines().filter(l -> !l.isEmpty()).map(l -> l.substring(0, l.indexOf('='))).toList();
    }
}
