package jwg.tunnel;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * The socket addresses datagrams came from, as the kernel wrote them (struct sockaddr_in6 or sockaddr_in), turned
 * into InetSocketAddress objects once per source rather than once per datagram: a peer sends thousands of datagrams
 * a second from one address, and the object made for its first serves all the others (the endpoint comparisons
 * downstream then often see the very same object). Direct-mapped, {@link #SIZE} entries: two sources that share a
 * slot replace each other, which costs an allocation, never a wrong answer; a flood from random sources costs one
 * allocation per datagram that got as far as needing its source (see {@link Device#receive}).
 *
 * <p>IPv4 sources on the dual-stack socket arrive as IPv4-mapped IPv6 addresses and come out as plain IPv4 ones, as
 * peers' endpoints are kept.
 *
 * <p>Thread-safety: none; the UDP event loop's alone.
 */
final class SourceCache {
    static final int SIZE = 64;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;

    /** Per slot: family and port (0: empty), the 16 address bytes as two longs, the IPv6 scope. */
    private final int[] familyPort = new int[SIZE];
    private final long[] high = new long[SIZE];
    private final long[] low = new long[SIZE];
    private final int[] scope = new int[SIZE];
    private final InetSocketAddress[] addresses = new InetSocketAddress[SIZE];

    /** Lookups that had to make a new object (tests). */
    long misses;

    /** The source at mem[at...], a sockaddr as recvmmsg writes it (native byte order); null for another family. */
    InetSocketAddress get(ByteBuffer mem, int at) {
        int family = mem.getShort(at) & 0xffff;
        int port = (mem.get(at + 2) & 0xff) << 8 | mem.get(at + 3) & 0xff;
        long h;
        long l;
        int sc;
        if (family == AF_INET6) {
            h = mem.getLong(at + 8);
            l = mem.getLong(at + 16);
            sc = mem.getInt(at + 24);
        } else if (family == AF_INET) {
            h = 0;
            l = mem.getInt(at + 4);
            sc = 0;
        } else {
            return null;
        }
        int key = family << 16 | port;
        int slot = slot(key, h, l);
        if (familyPort[slot] == key && high[slot] == h && low[slot] == l && scope[slot] == sc) {
            return addresses[slot];
        }
        InetSocketAddress a = decode(mem, at, family, port, sc);
        misses++;
        familyPort[slot] = key;
        high[slot] = h;
        low[slot] = l;
        scope[slot] = sc;
        addresses[slot] = a;
        return a;
    }

    private static int slot(int key, long h, long l) {
        long x = (h * 31 + l) * 0x9E3779B97F4A7C15L + key;
        x ^= x >>> 29;
        return (int) (x ^ x >>> 32) & (SIZE - 1);
    }

    private static InetSocketAddress decode(ByteBuffer mem, int at, int family, int port, int sc) {
        byte[] ip = new byte[family == AF_INET6 ? 16 : 4];
        mem.get(at + (family == AF_INET6 ? 8 : 4), ip);
        try {
            // A 16-byte IPv4-mapped address comes back from getByAddress as the plain IPv4 one.
            InetAddress a = sc != 0 ? Inet6Address.getByAddress(null, ip, sc) : InetAddress.getByAddress(ip);
            return new InetSocketAddress(a, port);
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible); // only for a length other than 4 or 16
        }
    }
}
