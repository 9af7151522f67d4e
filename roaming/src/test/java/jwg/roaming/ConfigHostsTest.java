package jwg.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import jwg.noise.Key;
import org.junit.jupiter.api.Test;

class ConfigHostsTest {
    private static final String A = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    private static final String B = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
    private static final String C = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=";

    @Test
    void peersWithAHostNameEndpointAreKeptAndLiteralsIgnored() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Interface]", "PrivateKey = " + A, "Address = 10.0.0.1/24", "",
                "[Peer]  # the office", "PublicKey = " + B, "Endpoint = vpn.example.org:51820", "AllowedIPs = 0.0.0.0/0",
                "[Peer]", "PublicKey=" + C, "Endpoint=[2001:db8::1]:51820",
                "[peer]", "endpoint = other.example.org:1", "publickey = " + A), "wg0.conf");
        assertEquals(2, p.hosts().size());
        assertEquals(Endpoints.of(new HostPort("vpn.example.org", 51820)), p.hosts().get(Key.fromBase64(B)));
        assertEquals(Endpoints.of(new HostPort("other.example.org", 1)), p.hosts().get(Key.fromBase64(A)));
        assertTrue(p.problems().isEmpty(), p.problems().toString());
    }

    @Test
    void aBadLineIsReportedWithItsNumberAndTheRestStillCounts() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Peer]", "PublicKey = not-a-key", "Endpoint = a.example:1",
                "[Peer]", "PublicKey = " + B, "Endpoint = b.example:99999",
                "[Peer]", "PublicKey = " + C, "Endpoint = c.example:3"), "wg0.conf");
        assertEquals(List.of(Endpoints.of(new HostPort("c.example", 3))), List.copyOf(p.hosts().values()));
        assertEquals(3, p.problems().size(), p.problems().toString());
        assertTrue(p.problems().get(0).startsWith("wg0.conf:2: PublicKey"), p.problems().toString());
        assertTrue(p.problems().get(2).startsWith("wg0.conf:6: Endpoint"), p.problems().toString());
    }

    @Test
    void jwgsOwnEndpointLineIsACommentToWgAndWinsOverWgsEndpoint() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Peer]", "PublicKey = " + A, "#jwg: Endpoint = boot.example:51820",
                "[Peer]", "PublicKey = " + B, "Endpoint = wg.example:1", "  #  JWG:  endpoint=ours.example:2 # why",
                "[Peer]", "PublicKey = " + C, "# jwg was here: not one of ours", "Endpoint = 192.0.2.1:3"), "wg0.conf");
        assertEquals(Endpoints.of(new HostPort("boot.example", 51820)), p.hosts().get(Key.fromBase64(A)));
        assertEquals(Endpoints.of(new HostPort("ours.example", 2)), p.hosts().get(Key.fromBase64(B)));
        assertEquals(2, p.hosts().size(), p.hosts().toString());
        assertTrue(p.problems().isEmpty(), p.problems().toString());
    }

    @Test
    void aBadJwgLineIsReportedWithItsNumber() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Interface]", "#jwg: Endpoint = early.example:1",
                "[Peer]", "PublicKey = " + A, "#jwg: Endpoints = a.example:1", "#jwg: Endpoint = 192.0.2.1:5",
                "#jwg: Endpoint = b.example", "#jwg: just words",
                "[Peer]", "PublicKey = " + B, "#jwg: Endpoint = fine.example:7"), "wg0.conf");
        assertEquals(List.of(Endpoints.of(new HostPort("fine.example", 7))), List.copyOf(p.hosts().values()));
        List<String> problems = p.problems();
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("wg0.conf:2: a #jwg: line is Key = value: Hook in the [Interface]"),
                problems.get(0));
        assertTrue(problems.get(1).startsWith("wg0.conf:5: #jwg: Endpoints: not a key of jwg's"), problems.get(1));
        assertTrue(problems.get(2).startsWith("wg0.conf:6: #jwg: Endpoint: '192.0.2.1:5' is an address: give it to wg"
                + " as Endpoint, or list more than one"), problems.get(2));
        assertTrue(problems.get(3).startsWith("wg0.conf:7: #jwg: Endpoint: expected host:port"), problems.get(3));
        assertTrue(problems.get(4).startsWith("wg0.conf:8: a #jwg: line"), problems.get(4));
    }

    @Test
    void theInterfacesHookIsJwgsLineThere() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Interface]", "PrivateKey = " + A, "#jwg: Hook = /usr/local/bin/notify \"$JWG_EVENT\" # where to",
                "[Peer]", "PublicKey = " + B, "#jwg: Hook = not here"), "wg0.conf");
        assertEquals("/usr/local/bin/notify \"$JWG_EVENT\"", p.hook());
        assertEquals(1, p.problems().size(), p.problems().toString());
        assertTrue(p.problems().get(0).startsWith("wg0.conf:6: #jwg: Hook: not a key of jwg's"), p.problems().toString());
        assertEquals(null, ConfigHosts.parse(List.of("[Interface]", "#jwg: Hook ="), "x").hook());
    }

    @Test
    void hostPortParsesNamesAndBracketedIpv6() {
        assertEquals(new HostPort("h.example", 5), HostPort.parse("h.example:5"));
        assertEquals(new HostPort("2001:db8::1", 5), HostPort.parse("[2001:db8::1]:5"));
        assertTrue(HostPort.parse("h.example:5").isName());
        assertTrue(!HostPort.parse("192.0.2.1:5").isName());
        for (String bad : List.of("h.example", "h.example:0", "h.example:65536", ":5", "[::1]5", "2001:db8::1:5")) {
            assertThrows(IllegalArgumentException.class, () -> HostPort.parse(bad), bad);
        }
    }

    @Test
    void anEndpointListKeepsItsOrderAcrossLinesAndTakesLiteralsAndAHoldDown() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Peer]", "PublicKey = " + A, "Endpoint = 192.0.2.1:51820",
                "#jwg: Endpoint = primary.example:51820, [2001:db8::5]:51820", "#jwg: Endpoint = backup.example:4",
                "#jwg: FailbackAfter = 90s",
                "[Peer]", "PublicKey = " + B, "#jwg: Endpoint = 192.0.2.9:1, 198.51.100.9:1"), "wg0.conf");
        assertEquals(new Endpoints(List.of(new HostPort("primary.example", 51820), new HostPort("2001:db8::5", 51820),
                new HostPort("backup.example", 4)), 90), p.hosts().get(Key.fromBase64(A)));
        assertEquals(Endpoints.parse("192.0.2.9:1, 198.51.100.9:1"), p.hosts().get(Key.fromBase64(B)));
        assertTrue(p.problems().isEmpty(), p.problems().toString());
    }

    @Test
    void aBadListOrHoldDownIsReportedWithItsLine() {
        ConfigHosts.Parsed p = ConfigHosts.parse(List.of(
                "[Peer]", "PublicKey = " + A, "#jwg: Endpoint = a.example:1, , b.example:2",
                "#jwg: Endpoint = a.example:1, 999.1.1.1:5", "#jwg: FailbackAfter = soon", "#jwg: FailbackAfter = 1",
                "#jwg: Endpoint = c.example:1, c.example:1",
                "[Peer]", "PublicKey = " + B, "#jwg: Endpoint = ok.example:1, 192.0.2.1:2", "#jwg: FailbackAfter = 5"),
                "wg0.conf");
        List<String> problems = p.problems();
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("wg0.conf:3: #jwg: Endpoint: an empty entry"), problems.get(0));
        assertTrue(problems.get(1).startsWith("wg0.conf:4: #jwg: Endpoint: '999.1.1.1' is not an IPv4"), problems.get(1));
        assertTrue(problems.get(2).startsWith("wg0.conf:5: #jwg: FailbackAfter: expected a number"), problems.get(2));
        assertTrue(problems.get(3).startsWith("wg0.conf:6: #jwg: FailbackAfter: the fail-back hold-down is 3"),
                problems.get(3));
        assertTrue(problems.get(4).startsWith("wg0.conf:7: #jwg: Endpoint: c.example:1 is listed twice"),
                problems.get(4));
        assertEquals(List.of(Key.fromBase64(B)), List.copyOf(p.hosts().keySet()), "the good peer still counts");
        assertEquals(5, p.hosts().get(Key.fromBase64(B)).failbackAfterSeconds());
    }
}
