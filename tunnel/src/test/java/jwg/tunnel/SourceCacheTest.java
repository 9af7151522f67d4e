package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Source addresses as the kernel writes them, into objects: the right ones, and each made once per source. */
class SourceCacheTest {
    private final SourceCache cache = new SourceCache();
    private final ByteBuffer mem = ByteBuffer.allocate(64).order(ByteOrder.nativeOrder());

    /** The sockaddr the kernel would write for a, on a dual-stack socket or an IPv4-only one. */
    private InetSocketAddress lookup(InetSocketAddress a, boolean ipv6Socket) {
        byte[] raw = new byte[28];
        SendBatch.encode(a, ipv6Socket, raw);
        // encode writes sa_family as the byte a little-endian machine keeps first; this reads it as the kernel does.
        mem.clear();
        mem.put(4, raw);
        mem.putShort(4, (short) (raw[0] & 0xff));
        return cache.get(mem, 4);
    }

    @Test
    void anIPv4MappedSourceComesOutAsPlainIPv4WithItsPort() throws Exception {
        InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 51820);
        InetSocketAddress got = lookup(a, true);
        assertEquals(a, got);
        assertInstanceOf(Inet4Address.class, got.getAddress());
        assertEquals(a, lookup(a, false), "and the same from an IPv4-only socket's sockaddr_in");
    }

    @Test
    void anIPv6SourceKeepsItsScope() throws Exception {
        InetSocketAddress global = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 443);
        assertEquals(global, lookup(global, true));
        InetSocketAddress linkLocal = new InetSocketAddress(
                Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 3), 443);
        InetSocketAddress got = lookup(linkLocal, true);
        assertEquals(3, ((Inet6Address) got.getAddress()).getScopeId());
        assertEquals(linkLocal, got);
    }

    @Test
    void oneSourceIsMadeIntoAnObjectOnce() throws Exception {
        InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("198.51.100.1"), 1000);
        InetSocketAddress first = lookup(a, true);
        for (int i = 0; i < 100; i++) {
            assertSame(first, lookup(a, true));
        }
        assertEquals(1, cache.misses);
        InetSocketAddress otherPort = lookup(new InetSocketAddress(a.getAddress(), 1001), true);
        assertNotSame(first, otherPort);
        assertEquals(1001, otherPort.getPort());
    }

    @Test
    void manySourcesSharingSlotsAreStillEachTheirOwn() throws Exception {
        InetSocketAddress[] all = new InetSocketAddress[500];
        for (int i = 0; i < all.length; i++) {
            String host = i % 2 == 0 ? "10.0." + (i >> 8) + "." + (i & 255) : "2001:db8::" + Integer.toHexString(i);
            all[i] = new InetSocketAddress(InetAddress.getByName(host), 50000 + i % 7);
        }
        for (int round = 0; round < 2; round++) {
            for (InetSocketAddress a : all) {
                assertEquals(a, lookup(a, true));
            }
        }
    }

    @Test
    void anotherFamilyIsNoSource() {
        mem.clear();
        mem.putShort(0, (short) 1); // AF_UNIX
        assertNull(cache.get(mem, 0));
    }
}
