package jwg.tunnel;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Cryptokey routing (§2): the allowed-IPs table, a path-compressed binary trie per address family giving the
 * longest-prefix match, like the kernel's allowedips.c.
 *
 * <p>Readers never lock: every packet looks up a destination (outbound) or a source (inbound), so the tries are
 * persistent. A change copies the nodes on its path (at most one per prefix bit) and publishes a new root through a
 * volatile field; a lookup walks whichever immutable snapshot it read. Writers (configuration) are serialized by this
 * object's lock. Prefixes are stored masked to their length, as the kernel and wireguard-go report them back.
 *
 * <p>Addresses are held as two longs (IPv4 in the high 32 bits of the first), so both families share one trie code and
 * a lookup reads straight from packet bytes without allocating.
 */
public final class AllowedIps<T> {
    /** An allowed-IPs entry, masked to its length. */
    public record Prefix(InetAddress address, int cidr) {
        @Override
        public String toString() {
            return address.getHostAddress() + "/" + cidr;
        }
    }

    private static final class Node<T> {
        final long hi;
        final long lo;
        final int cidr;
        final T value;
        final Node<T> zero;
        final Node<T> one;

        Node(long hi, long lo, int cidr, T value, Node<T> zero, Node<T> one) {
            this.hi = hi;
            this.lo = lo;
            this.cidr = cidr;
            this.value = value;
            this.zero = zero;
            this.one = one;
        }

        Node<T> withValue(T v) {
            return new Node<>(hi, lo, cidr, v, zero, one);
        }

        Node<T> withChild(int bit, Node<T> child) {
            return bit == 0 ? new Node<>(hi, lo, cidr, value, child, one) : new Node<>(hi, lo, cidr, value, zero, child);
        }
    }

    private volatile Node<T> root4;
    private volatile Node<T> root6;
    private final Map<T, LinkedHashSet<Prefix>> byValue = new HashMap<>();

    /** Routes prefix to value, taking it from whichever value had it before (§2: one owner per prefix). */
    public synchronized void insert(InetAddress address, int cidr, T value) {
        Prefix p = prefix(address, cidr);
        long[] k = key(p.address());
        boolean v4 = p.address() instanceof Inet4Address;
        T previous = lookupExact(v4 ? root4 : root6, k[0], k[1], cidr);
        if (previous != null) {
            forget(previous, p);
        }
        if (v4) {
            root4 = insert(root4, k[0], k[1], cidr, value);
        } else {
            root6 = insert(root6, k[0], k[1], cidr, value);
        }
        byValue.computeIfAbsent(value, x -> new LinkedHashSet<>()).add(p);
    }

    /** Removes prefix if value owns it (UAPI "allowed_ip=-…"); true if it did. */
    public synchronized boolean remove(InetAddress address, int cidr, T value) {
        Prefix p = prefix(address, cidr);
        LinkedHashSet<Prefix> owned = byValue.get(value);
        if (owned == null || !owned.contains(p)) {
            return false;
        }
        removeFromTrie(p);
        forget(value, p);
        return true;
    }

    /** Removes every prefix of value (a removed peer, or replace_allowed_ips). */
    public synchronized void removeAll(T value) {
        LinkedHashSet<Prefix> owned = byValue.remove(value);
        if (owned != null) {
            for (Prefix p : owned) {
                removeFromTrie(p);
            }
        }
    }

    /** value's prefixes in the order they were added. */
    public synchronized List<Prefix> entries(T value) {
        LinkedHashSet<Prefix> owned = byValue.get(value);
        return owned == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(owned));
    }

    /** Longest-prefix match of an IPv4 address given as an int (network order bits). */
    public T lookup4(int address) {
        return lookup(root4, (long) address << 32, 0, 32);
    }

    /** Longest-prefix match of an IPv6 address given as its two big-endian halves. */
    public T lookup6(long hi, long lo) {
        return lookup(root6, hi, lo, 128);
    }

    /**
     * Longest-prefix match of the address at buf[off…]: 4 bytes if v4, else 16. This is the per-packet call: it reads the
     * bytes in place and allocates nothing.
     */
    public T lookup(byte[] buf, int off, boolean v4) {
        if (v4) {
            return lookup4(be32(buf, off));
        }
        return lookup6(be64(buf, off), be64(buf, off + 8));
    }

    public T lookup(InetAddress address) {
        long[] k = key(address);
        return address instanceof Inet4Address ? lookup(root4, k[0], k[1], 32) : lookup(root6, k[0], k[1], 128);
    }

    private static <T> T lookup(Node<T> n, long hi, long lo, int bits) {
        T best = null;
        while (n != null && matches(n, hi, lo)) {
            if (n.value != null) {
                best = n.value;
            }
            if (n.cidr == bits) {
                break;
            }
            n = bit(hi, lo, n.cidr) == 0 ? n.zero : n.one;
        }
        return best;
    }

    private static <T> T lookupExact(Node<T> n, long hi, long lo, int cidr) {
        while (n != null && n.cidr <= cidr && matches(n, hi, lo)) {
            if (n.cidr == cidr) {
                return n.value;
            }
            n = bit(hi, lo, n.cidr) == 0 ? n.zero : n.one;
        }
        return null;
    }

    private static <T> Node<T> insert(Node<T> n, long hi, long lo, int cidr, T value) {
        if (n == null) {
            return new Node<>(hi, lo, cidr, value, null, null);
        }
        int common = Math.min(commonBits(n.hi, n.lo, hi, lo), Math.min(n.cidr, cidr));
        if (common == n.cidr && common == cidr) {
            return n.withValue(value);
        }
        if (common == n.cidr) {
            int b = bit(hi, lo, n.cidr);
            return n.withChild(b, insert(b == 0 ? n.zero : n.one, hi, lo, cidr, value));
        }
        if (common == cidr) {
            return new Node<T>(hi, lo, cidr, value, null, null).withChild(bit(n.hi, n.lo, cidr), n);
        }
        Node<T> leaf = new Node<>(hi, lo, cidr, value, null, null);
        long[] m = mask(hi, lo, common);
        return bit(hi, lo, common) == 0
                ? new Node<>(m[0], m[1], common, null, leaf, n)
                : new Node<>(m[0], m[1], common, null, n, leaf);
    }

    private static <T> Node<T> remove(Node<T> n, long hi, long lo, int cidr) {
        if (n == null || n.cidr > cidr || !matches(n, hi, lo)) {
            return n;
        }
        if (n.cidr == cidr) {
            return collapse(n.withValue(null));
        }
        int b = bit(hi, lo, n.cidr);
        Node<T> child = b == 0 ? n.zero : n.one;
        Node<T> updated = remove(child, hi, lo, cidr);
        return updated == child ? n : collapse(n.withChild(b, updated));
    }

    /** A node without a value exists only to branch: with fewer than two children it goes. */
    private static <T> Node<T> collapse(Node<T> n) {
        if (n.value != null || (n.zero != null && n.one != null)) {
            return n;
        }
        return n.zero != null ? n.zero : n.one;
    }

    private void removeFromTrie(Prefix p) {
        long[] k = key(p.address());
        if (p.address() instanceof Inet4Address) {
            root4 = remove(root4, k[0], k[1], p.cidr());
        } else {
            root6 = remove(root6, k[0], k[1], p.cidr());
        }
    }

    private void forget(T value, Prefix p) {
        LinkedHashSet<Prefix> owned = byValue.get(value);
        if (owned != null && owned.remove(p) && owned.isEmpty()) {
            byValue.remove(value);
        }
    }

    /** The prefix masked to cidr bits; cidr must fit the family (0-32 or 0-128). */
    public static Prefix prefix(InetAddress address, int cidr) {
        int bits = address instanceof Inet4Address ? 32 : 128;
        if (cidr < 0 || cidr > bits) {
            throw new IllegalArgumentException("prefix length " + cidr + " is out of range 0-" + bits);
        }
        byte[] raw = address.getAddress();
        for (int i = 0; i < raw.length; i++) {
            int keep = Math.max(0, Math.min(8, cidr - 8 * i));
            raw[i] &= (byte) (0xff00 >> keep);
        }
        try {
            // getByAddress would turn a 16-byte IPv4-mapped address into an IPv4 one; it must stay IPv6.
            InetAddress masked = raw.length == 16 ? Inet6Address.getByAddress(null, raw, -1) : InetAddress.getByAddress(raw);
            return new Prefix(masked, cidr);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static boolean matches(Node<?> n, long hi, long lo) {
        return commonBits(n.hi, n.lo, hi, lo) >= n.cidr;
    }

    private static int commonBits(long hi1, long lo1, long hi2, long lo2) {
        long x = hi1 ^ hi2;
        return x != 0 ? Long.numberOfLeadingZeros(x) : 64 + Long.numberOfLeadingZeros(lo1 ^ lo2);
    }

    private static int bit(long hi, long lo, int index) {
        return (int) (index < 64 ? hi >>> (63 - index) : lo >>> (127 - index)) & 1;
    }

    private static long[] mask(long hi, long lo, int bits) {
        long mh = bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
        long ml = bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
        return new long[] {hi & mh, lo & ml};
    }

    private static long[] key(InetAddress address) {
        byte[] raw = address.getAddress();
        return raw.length == 4 ? new long[] {(long) be32(raw, 0) << 32, 0} : new long[] {be64(raw, 0), be64(raw, 8)};
    }

    private static int be32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    private static long be64(byte[] b, int off) {
        return (long) be32(b, off) << 32 | (be32(b, off + 4) & 0xffffffffL);
    }
}
