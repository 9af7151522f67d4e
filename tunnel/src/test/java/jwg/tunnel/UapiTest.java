package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.List;
import java.util.stream.Collectors;
import jwg.noise.Dh;
import jwg.noise.Key;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The UAPI get/set protocol against a device without a TUN: parsing, validation, atomic apply, reply format. */
class UapiTest {
    private static final String PRIVATE = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
    private static final String PEER = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";
    private static final String PEER2 = "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376";
    private static final String PSK = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52";

    private Device device;
    private Uapi uapi;

    @BeforeEach
    void setUp() throws Exception {
        device = new Device("test0", null, new Log(Log.Level.SILENT, "test0", System.err), () -> { });
        device.bind(0, 0);
        uapi = new Uapi(device, null);
    }

    @AfterEach
    void tearDown() {
        device.close();
    }

    private int set(String body) throws Exception {
        try {
            uapi.set(UapiReader.of(body + "\n\n"));
            return 0;
        } catch (UapiError e) {
            return -e.errno;
        }
    }

    private String get() throws Exception {
        StringWriter out = new StringWriter();
        uapi.get(out);
        return out.toString();
    }

    private static List<String> keys(String reply) {
        return reply.lines().filter(l -> !l.isEmpty()).map(l -> l.substring(0, l.indexOf('=')))
                .collect(Collectors.toList());
    }

    @Test
    void getOfAFreshDeviceHasOnlyItsPortAndErrnoZero() throws Exception {
        assertEquals("listen_port=" + device.udp().port() + "\nerrno=0\n\n", get());
    }

    @Test
    void getListsKeysInWireguardGosOrder() throws Exception {
        assertEquals(0, set("private_key=" + PRIVATE + "\nlisten_port=0\npublic_key=" + PEER + "\npreshared_key=" + PSK
                + "\nendpoint=[2001:db8::1]:51820\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.7/24\n"
                + "allowed_ip=2001:db8:0:0::1/64"));
        String reply = get();
        assertEquals(List.of("private_key", "listen_port", "public_key", "preshared_key", "protocol_version", "endpoint",
                "last_handshake_time_sec", "last_handshake_time_nsec", "tx_bytes", "rx_bytes",
                "persistent_keepalive_interval", "allowed_ip", "allowed_ip", "errno"), keys(reply));
        assertTrue(reply.contains("private_key=" + PRIVATE + "\n"), reply);
        assertTrue(reply.contains("endpoint=[2001:db8::1]:51820\n"), reply);
        assertTrue(reply.contains("allowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\n"), "masked, RFC 5952: " + reply);
        assertTrue(reply.endsWith("errno=0\n\n"));
    }

    @Test
    void aSetWithAnInvalidLineChangesNothingAtAll() throws Exception {
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=10.0.0.0/24"));
        String before = get();
        assertEquals(-22, set("private_key=" + PRIVATE + "\npublic_key=" + PEER2 + "\nallowed_ip=10.0.0.0/24\n"
                + "persistent_keepalive_interval=70000"));
        assertEquals(before, get());
    }

    @Test
    void aSetCutOffBeforeItsBlankLineChangesNothing() throws Exception {
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=10.0.0.0/24"));
        String before = get();
        UapiReader cut = UapiReader.of("replace_peers=true\npublic_key=" + PEER2 + "\nallowed_ip=10.1.0.0/24\n");
        UapiError e = assertThrows(UapiError.class, () -> Uapi.parse(cut));
        assertEquals(UapiError.EIO, e.errno);
        assertEquals(before, get(), "the client went away mid-request: nothing of it applies");
    }

    @Test
    void eachKindOfBadValueIsEinval() throws Exception {
        String peer = "public_key=" + PEER + "\n";
        List<String> bad = List.of("private_key=zz", "private_key=" + PRIVATE.substring(2), "listen_port=65536",
                "listen_port=-1", "listen_port=", "fwmark=4294967296", "replace_peers=false", "replace_peers=1",
                "bogus=1", peer + "private_key=" + PRIVATE, peer + "listen_port=1", peer + "endpoint=example.com:1",
                peer + "endpoint=10.0.0.1", peer + "endpoint=[::1]", peer + "endpoint=10.0.0.256:1",
                peer + "endpoint=10.0.0.1:65536", peer + "allowed_ip=10.0.0.0/33", peer + "allowed_ip=::/129",
                peer + "allowed_ip=10.0.0.0", peer + "allowed_ip=localhost/32", peer + "allowed_ip=010.0.0.0/8",
                peer + "allowed_ip=10.0.0.256/32", peer + "allowed_ip=10.0.0/24", peer + "allowed_ip=10.0.0.0.0/32",
                peer + "allowed_ip=10.0.0.0/", peer + "allowed_ip=-/8", peer + "allowed_ip=fe80::1%1/64", peer + "allowed_ip=fd00::%0/8",
                peer + "allowed_ip=1.2.3.4x/32", peer + "protocol_version=2",
                peer + "remove=yes", peer + "update_only=false", peer + "rx_bytes=0", peer + "tx_bytes=0",
                peer + "last_handshake_time_sec=0", peer + "persistent_keepalive_interval=65536");
        for (String body : bad) {
            assertEquals(-22, set(body), body);
        }
        assertEquals(-71, set("no equals sign"), "a line without '=' is EPROTO");
        assertEquals("listen_port=" + device.udp().port() + "\nerrno=0\n\n", get(), "nothing was applied");
    }

    @Test
    void aPortInUseIsEaddrinuseAndNothingElseIsApplied() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getByName("::"))) {
            int before = device.udp().port();
            assertEquals(-98, set("private_key=" + PRIVATE + "\nlisten_port=" + taken.getLocalPort()));
            assertEquals(before, device.udp().port());
            assertTrue(device.privateKey().isZero());
        }
    }

    @Test
    void zeroKeysRemoveThePrivateAndPresharedKeys() throws Exception {
        String zero = "0".repeat(64);
        assertEquals(0, set("private_key=" + PRIVATE + "\npublic_key=" + PEER + "\npreshared_key=" + PSK));
        assertEquals(0, set("private_key=" + zero + "\npublic_key=" + PEER + "\npreshared_key=" + zero));
        String reply = get();
        assertFalse(reply.contains("private_key="), reply);
        assertTrue(reply.contains("preshared_key=" + zero), reply);
    }

    @Test
    void replacePeersRemoveAndUpdateOnly() throws Exception {
        assertEquals(0, set("public_key=" + PEER + "\npublic_key=" + PEER2));
        assertEquals(2, device.peers().size());
        assertEquals(0, set("replace_peers=true\npublic_key=" + PEER2));
        assertEquals(1, device.peers().size());
        assertEquals(0, set("public_key=" + PEER2 + "\nremove=true"));
        assertEquals(0, device.peers().size());
        assertEquals(0, set("public_key=" + PEER + "\nupdate_only=true\nallowed_ip=10.0.0.0/8"));
        assertEquals(0, device.peers().size(), "update_only does not create");
    }

    @Test
    void anAllowedIpMovesBetweenPeersAndAMinusEntryRemovesIt() throws Exception {
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=10.0.0.0/24\nallowed_ip=10.1.0.0/24"));
        assertEquals(0, set("public_key=" + PEER2 + "\nallowed_ip=10.0.0.0/24"));
        Peer p1 = device.peer(Key.fromHex(PEER));
        Peer p2 = device.peer(Key.fromHex(PEER2));
        assertEquals("[10.1.0.0/24]", device.allowedIps().entries(p1).toString());
        assertEquals("[10.0.0.0/24]", device.allowedIps().entries(p2).toString());
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=-10.1.0.0/24"));
        assertEquals("[]", device.allowedIps().entries(p1).toString());
        assertEquals(0, set("public_key=" + PEER2 + "\nreplace_allowed_ips=true\nallowed_ip=192.0.2.0/24"));
        assertEquals("[192.0.2.0/24]", device.allowedIps().entries(p2).toString());
    }

    /** What a set's replacements end in, though they are applied together: as if each went at its place. */
    @Test
    void replacementsInOneSetEndAsIfAppliedOneAfterTheOther() throws Exception {
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=10.0.0.0/24\nallowed_ip=10.1.0.0/24\n"
                + "public_key=" + PEER2 + "\nallowed_ip=10.2.0.0/24"));
        Peer p1 = device.peer(Key.fromHex(PEER));
        Peer p2 = device.peer(Key.fromHex(PEER2));
        // p2 takes 10.0.0.0/24 from p1 before p1's own replacement, which therefore does not remove it.
        assertEquals(0, set("public_key=" + PEER2 + "\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/24\n"
                + "public_key=" + PEER + "\nreplace_allowed_ips=true\nallowed_ip=10.3.0.0/24"));
        assertEquals("[10.3.0.0/24]", device.allowedIps().entries(p1).toString());
        assertEquals("[10.0.0.0/24]", device.allowedIps().entries(p2).toString());
        // A peer named twice: its second replacement removes what its first part gave it.
        assertEquals(0, set("public_key=" + PEER + "\nallowed_ip=10.5.0.0/24\n"
                + "public_key=" + PEER + "\nreplace_allowed_ips=true\nallowed_ip=10.6.0.0/24"));
        assertEquals("[10.6.0.0/24]", device.allowedIps().entries(p1).toString());
        assertEquals("[10.0.0.0/24]", device.allowedIps().entries(p2).toString());
    }

    @Test
    void aPeerWithTheDevicesOwnPublicKeyIsIgnored() throws Exception {
        String own = Key.of(Dh.publicKey(Key.fromHex(PRIVATE).bytes())).toHex();
        assertEquals(0, set("private_key=" + PRIVATE + "\npublic_key=" + own + "\nallowed_ip=10.0.0.0/8"));
        assertEquals(0, device.peers().size());
    }

    @Test
    void settingTheDevicesKeyToAPeersKeyRemovesThatPeer() throws Exception {
        String own = Key.of(Dh.publicKey(Key.fromHex(PRIVATE).bytes())).toHex();
        assertEquals(0, set("public_key=" + own));
        assertEquals(0, set("private_key=" + PRIVATE));
        assertEquals(0, device.peers().size());
    }

    @Test
    void endpointsAndAddressesAreNumericOnlyAndPrintedInRfc5952Form() throws Exception {
        assertEquals("[fe80::1:2]:1", Uapi.formatEndpoint(Uapi.parseEndpoint("[fe80:0:0:0:0:0:1:2]:1")));
        assertEquals("192.0.2.1:51820", Uapi.formatEndpoint(Uapi.parseEndpoint("192.0.2.1:51820")));
        assertEquals("2001:db8::1:0:0:1", Uapi.formatAddress(InetAddress.getByName("2001:db8:0:0:1:0:0:1")));
        assertEquals("2001:db8:0:1:1:1:1:1", Uapi.formatAddress(InetAddress.getByName("2001:db8:0:1:1:1:1:1")));
        assertEquals("::", Uapi.formatAddress(InetAddress.getByName("::")));
        assertEquals("::1", Uapi.formatAddress(InetAddress.getByName("::1")));
        assertEquals("1::", Uapi.formatAddress(InetAddress.getByName("1::")));
        assertThrows(UapiError.class, () -> Uapi.parseEndpoint("localhost:51820"));
    }

    @Test
    void ipv4MappedIpv6StaysIpv6AsEndpointAndAsAllowedIp() throws Exception {
        assertEquals("[::ffff:10.99.0.200]:51820", Uapi.formatEndpoint(Uapi.parseEndpoint("[::ffff:10.99.0.200]:51820")));
        assertEquals(0, set("public_key=" + PEER + "\nendpoint=[::ffff:10.99.0.200]:51820\nallowed_ip=::ffff:10.0.0.0/104"));
        String reply = get();
        assertTrue(reply.contains("endpoint=[::ffff:10.99.0.200]:51820\n"), reply);
        assertTrue(reply.contains("allowed_ip=::ffff:10.0.0.0/104\n"), reply);
    }

    @Test
    void ipv6LiteralsParseInEveryShapeAndNothingElseDoes() throws Exception {
        for (String ok : List.of("::", "::1", "1::", "1:2:3:4:5:6:7:8", "1::8", "1:2::7:8", "::ffff:1.2.3.4",
                "64:ff9b::192.0.2.1", "fe80::1%1", "FE80::A")) {
            assertTrue(IpLiteral.parse(ok) instanceof java.net.Inet6Address, ok);
        }
        for (String bad : List.of("1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "12345::", "g::1", "1:2:3:4:5:6:7",
                "::1.2.3", "::1.2.3.4.5", "fe80::1%", "localhost", "1.2.3", "")) {
            assertEquals(null, IpLiteral.parse(bad), bad);
        }
    }

    @Test
    void aHugeSetIsParsedAsAStream() throws Exception {
        StringBuilder sb = new StringBuilder("public_key=" + PEER + "\n");
        for (int a = 0; a < 255; a++) {
            for (int b = 0; b < 256; b++) {
                sb.append("allowed_ip=10.").append(a).append('.').append(b).append(".0/24\n");
                sb.append("allowed_ip=fd00:").append(Integer.toHexString(a)).append(':').append(Integer.toHexString(b))
                        .append("::/48\n");
            }
        }
        assertEquals(0, set(sb.toString()));
        assertEquals(255 * 256 * 2, device.allowedIps().entries(device.peer(Key.fromHex(PEER))).size());
        assertTrue(get().endsWith("errno=0\n\n"));
    }
}
