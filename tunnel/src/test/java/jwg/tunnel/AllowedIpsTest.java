package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AllowedIpsTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void longestPrefixWins() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 8, "a");
        t.insert(ip("10.1.0.0"), 16, "b");
        t.insert(ip("10.1.2.3"), 32, "c");
        t.insert(ip("0.0.0.0"), 0, "default");
        assertEquals("c", t.lookup(ip("10.1.2.3")));
        assertEquals("b", t.lookup(ip("10.1.2.4")));
        assertEquals("a", t.lookup(ip("10.2.0.1")));
        assertEquals("default", t.lookup(ip("192.0.2.1")));
        assertNull(t.lookup(ip("::1")), "families are separate tables");
    }

    @Test
    void prefixesAreStoredMaskedToTheirLength() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.1.2.3"), 24, "a");
        t.insert(ip("2001:db8::1:2:3"), 64, "a");
        assertEquals("[10.1.2.0/24, 2001:db8:0:0:0:0:0:0/64]", t.entries("a").toString());
    }

    @Test
    void insertingAnOwnedPrefixMovesItToTheNewPeer() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 24, "a");
        t.insert(ip("10.0.0.0"), 24, "b");
        assertEquals("b", t.lookup(ip("10.0.0.7")));
        assertEquals(List.of(), t.entries("a"));
        assertEquals(1, t.entries("b").size());
    }

    @Test
    void entriesListInTheOrderTheirOwnerGotThem() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 24, "a");
        t.insert(ip("fd00::"), 8, "a");
        t.insert(ip("10.0.1.0"), 24, "a");
        t.insert(ip("10.0.0.0"), 24, "a");
        assertEquals("[fd00:0:0:0:0:0:0:0/8, 10.0.1.0/24, 10.0.0.0/24]", t.entries("a").toString(),
                "given again to its owner, an entry goes last, as the kernel and wireguard-go list it");
        t.insert(ip("fd00::"), 8, "b");
        t.insert(ip("fd00::"), 8, "a");
        assertEquals("[10.0.1.0/24, 10.0.0.0/24, fd00:0:0:0:0:0:0:0/8]", t.entries("a").toString(),
                "taken away and given back, it comes last");
        assertEquals(Map.of("a", t.entries("a")), t.entriesByValue());
    }

    @Test
    void anEditIsSeenWholeOrNotAtAll() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 8, "a");
        AllowedIps.Entry narrower = AllowedIps.Entry.of(ip("10.0.0.0"), 16);
        AllowedIps.Entry other = AllowedIps.Entry.of(ip("10.1.0.0"), 16);
        InetAddress probe = ip("10.1.0.1");
        t.edit(e -> {
            e.removeAll("a");
            e.insert(narrower, "a");
            e.insert(other, "b");
            assertEquals("a", t.lookup(probe), "a reader during the edit sees the table before it");
        });
        assertEquals("b", t.lookup(ip("10.1.0.1")));
        assertEquals("a", t.lookup(ip("10.0.0.1")));
        assertNull(t.lookup(ip("10.2.0.1")));
    }

    @Test
    void removeOnlyRemovesTheOwnersEntry() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 24, "a");
        assertFalse(t.remove(ip("10.0.0.0"), 24, "b"));
        assertEquals("a", t.lookup(ip("10.0.0.1")));
        assertTrue(t.remove(ip("10.0.0.9"), 24, "a"), "the address is masked before matching");
        assertNull(t.lookup(ip("10.0.0.1")));
    }

    @Test
    void removeAllDropsEveryPrefixOfAPeerAndNoOther() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("10.0.0.0"), 8, "a");
        t.insert(ip("10.1.0.0"), 16, "b");
        t.insert(ip("fd00::"), 8, "a");
        t.removeAll("a");
        assertNull(t.lookup(ip("10.2.0.0")));
        assertEquals("b", t.lookup(ip("10.1.0.0")));
        assertNull(t.lookup(ip("fd00::1")));
    }

    @Test
    void lookupReadsAddressesFromPacketBytes() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        t.insert(ip("192.0.2.0"), 24, "v4");
        t.insert(ip("2001:db8::"), 32, "v6");
        byte[] packet = new byte[40];
        System.arraycopy(ip("192.0.2.77").getAddress(), 0, packet, 16, 4);
        assertEquals("v4", t.lookup(packet, 16, true));
        System.arraycopy(ip("2001:db8:1::5").getAddress(), 0, packet, 24, 16);
        assertEquals("v6", t.lookup(packet, 24, false));
    }

    @Test
    void outOfRangePrefixLengthIsRefused() throws Exception {
        AllowedIps<String> t = new AllowedIps<>();
        assertThrows(IllegalArgumentException.class, () -> t.insert(ip("10.0.0.0"), 33, "a"));
        assertThrows(IllegalArgumentException.class, () -> t.insert(ip("::"), 129, "a"));
    }

    /** The trie against a list scanned in full, over random inserts, moves, removals and lookups in both families. */
    @Test
    void agreesWithANaiveLongestPrefixMatchOnRandomInput() throws Exception {
        for (boolean v4 : new boolean[] {true, false}) {
            Random r = new Random(v4 ? 4 : 6);
            AllowedIps<Integer> trie = new AllowedIps<>();
            List<Object[]> naive = new ArrayList<>();
            int bits = v4 ? 32 : 128;
            for (int step = 0; step < 20_000; step++) {
                InetAddress a = randomAddress(r, v4);
                int op = r.nextInt(10);
                if (op < 4) {
                    int cidr = r.nextInt(bits + 1);
                    int peer = r.nextInt(8);
                    AllowedIps.Prefix p = AllowedIps.prefix(a, cidr);
                    trie.insert(a, cidr, peer);
                    naive.removeIf(e -> e[0].equals(p));
                    naive.add(new Object[] {p, peer});
                } else if (op == 4 && !naive.isEmpty()) {
                    Object[] e = naive.get(r.nextInt(naive.size()));
                    AllowedIps.Prefix p = (AllowedIps.Prefix) e[0];
                    assertTrue(trie.remove(p.address(), p.cidr(), (Integer) e[1]));
                    naive.remove(e);
                } else if (op == 5 && r.nextInt(20) == 0) {
                    int peer = r.nextInt(8);
                    trie.removeAll(peer);
                    naive.removeIf(e -> e[1].equals(peer));
                } else {
                    InetAddress probe = naive.isEmpty() || r.nextBoolean() ? a : near(r, naive);
                    assertEquals(naiveLookup(naive, probe), trie.lookup(probe), "lookup of " + probe);
                }
            }
            for (int peer = 0; peer < 8; peer++) {
                int p = peer;
                assertEquals(naive.stream().filter(e -> e[1].equals(p)).count(), trie.entries(p).size());
            }
        }
    }

    private static InetAddress near(Random r, List<Object[]> naive) throws Exception {
        AllowedIps.Prefix p = (AllowedIps.Prefix) naive.get(r.nextInt(naive.size()))[0];
        byte[] raw = p.address().getAddress();
        raw[raw.length - 1] ^= (byte) r.nextInt(4);
        return InetAddress.getByAddress(raw);
    }

    private static Integer naiveLookup(List<Object[]> naive, InetAddress a) {
        Integer best = null;
        int bestLen = -1;
        for (Object[] e : naive) {
            AllowedIps.Prefix p = (AllowedIps.Prefix) e[0];
            if (p.address().getAddress().length == a.getAddress().length && p.cidr() > bestLen
                    && AllowedIps.prefix(a, p.cidr()).equals(p)) {
                best = (Integer) e[1];
                bestLen = p.cidr();
            }
        }
        return best;
    }

    /** Clustered addresses, so prefixes nest and share long common runs as real configurations do. */
    private static InetAddress randomAddress(Random r, boolean v4) throws Exception {
        byte[] raw = new byte[v4 ? 4 : 16];
        r.nextBytes(raw);
        raw[0] = (byte) (r.nextInt(3) + 10);
        if (raw.length > 4) {
            raw[1] = 0;
        }
        return InetAddress.getByAddress(raw);
    }
}
