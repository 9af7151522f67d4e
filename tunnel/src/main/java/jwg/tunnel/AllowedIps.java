package jwg.tunnel;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Cryptokey routing (§2): the allowed-IPs table, a path-compressed binary trie per address family giving the
 * longest-prefix match, like the kernel's allowedips.c.
 *
 * <p>Readers never lock: every packet looks up a destination (outbound) or a source (inbound), so the tries are
 * persistent as far as readers can tell. Writers (configuration) are serialized by this object's lock and change the
 * table through an {@link Edit}: the edit copies a published node before changing it, but changes the nodes it made
 * itself in place (they carry its token, and nobody else can reach them yet), and publishes the new roots through
 * volatile fields when it ends. So a set of 100,000 prefixes allocates about two nodes for each instead of a copy of
 * its whole path, and a reader sees a peer's allowed IPs either as they were or as they are after the edit, never
 * half replaced. The volatile write of a root after the last change is what makes the nodes' plain fields safe to
 * read.
 *
 * <p>The trie is the only record of who owns what: a node with a value is an entry, and its sequence number keeps the
 * order entries were added in, which is the order `wg show` lists them. So an entry costs its node (and about one
 * branch node) and nothing else; listing or removing one owner's entries walks the trie, which configuration can
 * afford and packets never do.
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

    /**
     * A prefix in the trie's own form, masked to its length: what a configuration line parses to, without making an
     * InetAddress.
     */
    public record Entry(long hi, long lo, int cidr, boolean v4) {
        /** Masks hi/lo (an IPv4 address in the top 32 bits of hi) to cidr, which must fit the family. */
        public Entry {
            int bits = v4 ? 32 : 128;
            if (cidr < 0 || cidr > bits) {
                throw new IllegalArgumentException("prefix length " + cidr + " is out of range 0-" + bits);
            }
            hi &= maskHi(cidr);
            lo &= maskLo(cidr);
        }

        static Entry of(InetAddress address, int cidr) {
            byte[] raw = address.getAddress();
            return raw.length == 4
                    ? new Entry((long) be32(raw, 0) << 32, 0, cidr, true)
                    : new Entry(be64(raw, 0), be64(raw, 8), cidr, false);
        }

        Prefix prefix() {
            byte[] raw = new byte[v4 ? 4 : 16];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = (byte) (i < 8 ? hi >>> (56 - 8 * i) : lo >>> (120 - 8 * i));
            }
            try {
                // getByAddress would turn a 16-byte IPv4-mapped address into an IPv4 one; it must stay IPv6.
                return new Prefix(v4 ? InetAddress.getByAddress(raw) : Inet6Address.getByAddress(null, raw, -1), cidr);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * A trie node: an entry if it has a value, else only a branch. Its fields change only while it carries the token
     * of the edit in progress, which is before anyone else can see it.
     */
    private static final class Node<T> {
        final Object owner;
        final long hi;
        final long lo;
        final int cidr;
        T value;
        /** When value was given this prefix: entries list in this order. */
        long seq;
        Node<T> zero;
        Node<T> one;

        Node(Object owner, long hi, long lo, int cidr) {
            this.owner = owner;
            this.hi = hi;
            this.lo = lo;
            this.cidr = cidr;
        }

        Node<T> child(int bit) {
            return bit == 0 ? zero : one;
        }

        void setChild(int bit, Node<T> child) {
            if (bit == 0) {
                zero = child;
            } else {
                one = child;
            }
        }
    }

    private volatile Node<T> root4;
    private volatile Node<T> root6;
    /** The last sequence number given to an entry; only under the lock. */
    private long sequence;

    /** Changes made together and published when {@link #edit} returns; use it only inside that call. */
    public final class Edit {
        private final Object token = new Object();
        private Node<T> draft4 = root4;
        private Node<T> draft6 = root6;

        private Edit() {}

        /**
         * Routes e to value, taking it from whichever value had it before (§2: one owner per prefix). Either way it
         * goes to the end of value's listing, as the kernel and wireguard-go list an entry given again.
         */
        public void insert(Entry e, T value) {
            Objects.requireNonNull(value);
            if (e.v4) {
                draft4 = insertAt(draft4, e.hi, e.lo, e.cidr, value);
            } else {
                draft6 = insertAt(draft6, e.hi, e.lo, e.cidr, value);
            }
        }

        /** Removes e if value owns it (UAPI "allowed_ip=-…"); true if it did. */
        public boolean remove(Entry e, T value) {
            if (!Objects.equals(lookupExact(e.v4 ? draft4 : draft6, e.hi, e.lo, e.cidr), value)) {
                return false;
            }
            if (e.v4) {
                draft4 = removeAt(draft4, e.hi, e.lo, e.cidr);
            } else {
                draft6 = removeAt(draft6, e.hi, e.lo, e.cidr);
            }
            return true;
        }

        /** Removes every entry of value (a removed peer, or replace_allowed_ips). */
        public void removeAll(T value) {
            removeAll(Set.of(value));
        }

        /**
         * Removes every entry of the values, in one walk of the table: a set that replaces the allowed IPs of many
         * peers (every `wg setconf` and `wg syncconf`) would otherwise walk it once per peer.
         */
        public void removeAll(Set<T> values) {
            if (!values.isEmpty()) {
                draft4 = removeOwned(draft4, values);
                draft6 = removeOwned(draft6, values);
            }
        }

        /** Removes every entry (replace_peers). */
        public void clear() {
            draft4 = null;
            draft6 = null;
        }

        /** n itself if this edit made it, else a copy this edit may change. */
        private Node<T> mine(Node<T> n) {
            if (n.owner == token) {
                return n;
            }
            Node<T> m = new Node<>(token, n.hi, n.lo, n.cidr);
            m.value = n.value;
            m.seq = n.seq;
            m.zero = n.zero;
            m.one = n.one;
            return m;
        }

        private Node<T> entry(long hi, long lo, int cidr, T value) {
            Node<T> n = new Node<>(token, hi, lo, cidr);
            n.value = value;
            n.seq = ++sequence;
            return n;
        }

        private Node<T> insertAt(Node<T> n, long hi, long lo, int cidr, T value) {
            if (n == null) {
                return entry(hi, lo, cidr, value);
            }
            int common = Math.min(commonBits(n.hi, n.lo, hi, lo), Math.min(n.cidr, cidr));
            if (common == n.cidr && common == cidr) {
                Node<T> m = mine(n);
                m.value = value;
                m.seq = ++sequence;
                return m;
            }
            if (common == n.cidr) {
                int b = bit(hi, lo, n.cidr);
                Node<T> child = n.child(b);
                Node<T> updated = insertAt(child, hi, lo, cidr, value);
                if (updated == child) {
                    return n;
                }
                Node<T> m = mine(n);
                m.setChild(b, updated);
                return m;
            }
            if (common == cidr) {
                Node<T> above = entry(hi, lo, cidr, value);
                above.setChild(bit(n.hi, n.lo, cidr), n);
                return above;
            }
            Node<T> branch = new Node<>(token, hi & maskHi(common), lo & maskLo(common), common);
            int b = bit(hi, lo, common);
            branch.setChild(b, entry(hi, lo, cidr, value));
            branch.setChild(b ^ 1, n);
            return branch;
        }

        private Node<T> removeAt(Node<T> n, long hi, long lo, int cidr) {
            if (n == null || n.cidr > cidr || !matches(n, hi, lo)) {
                return n;
            }
            if (n.cidr == cidr) {
                Node<T> m = mine(n);
                m.value = null;
                return collapse(m);
            }
            int b = bit(hi, lo, n.cidr);
            Node<T> child = n.child(b);
            Node<T> updated = removeAt(child, hi, lo, cidr);
            if (updated == child) {
                return n;
            }
            Node<T> m = mine(n);
            m.setChild(b, updated);
            return collapse(m);
        }

        private Node<T> removeOwned(Node<T> n, Set<T> values) {
            if (n == null) {
                return null;
            }
            Node<T> zero = removeOwned(n.zero, values);
            Node<T> one = removeOwned(n.one, values);
            boolean owned = n.value != null && values.contains(n.value);
            if (!owned && zero == n.zero && one == n.one) {
                return n;
            }
            Node<T> m = mine(n);
            m.zero = zero;
            m.one = one;
            if (owned) {
                m.value = null;
            }
            return collapse(m);
        }

        private void publish() {
            root4 = draft4;
            root6 = draft6;
        }
    }

    /** Makes the changes and publishes them together: a lookup sees the table before them or after, not between. */
    public synchronized void edit(Consumer<Edit> changes) {
        Edit e = new Edit();
        changes.accept(e);
        e.publish();
    }

    /** Routes prefix to value, taking it from whichever value had it before (§2: one owner per prefix). */
    public void insert(InetAddress address, int cidr, T value) {
        Entry e = Entry.of(address, cidr);
        edit(x -> x.insert(e, value));
    }

    /** Removes prefix if value owns it (UAPI "allowed_ip=-…"); true if it did. */
    public boolean remove(InetAddress address, int cidr, T value) {
        Entry e = Entry.of(address, cidr);
        boolean[] removed = new boolean[1];
        edit(x -> removed[0] = x.remove(e, value));
        return removed[0];
    }

    /** Removes every prefix of value (a removed peer, or replace_allowed_ips). */
    public void removeAll(T value) {
        edit(x -> x.removeAll(value));
    }

    /** value's prefixes in the order they were added. */
    public synchronized List<Prefix> entries(T value) {
        List<Prefix> list = entriesByValue().get(value);
        return list == null ? List.of() : list;
    }

    /** Every value's prefixes, each in the order they were added: one walk of the table for a whole `wg show`. */
    public synchronized Map<T, List<Prefix>> entriesByValue() {
        List<Found<T>> found = new ArrayList<>();
        collect(root4, true, found);
        collect(root6, false, found);
        found.sort(Comparator.comparingLong(f -> f.node.seq));
        Map<T, List<Prefix>> byValue = new HashMap<>();
        for (Found<T> f : found) {
            Node<T> n = f.node;
            byValue.computeIfAbsent(n.value, x -> new ArrayList<>()).add(new Entry(n.hi, n.lo, n.cidr, f.v4).prefix());
        }
        return byValue;
    }

    private record Found<T>(Node<T> node, boolean v4) {}

    private static <T> void collect(Node<T> n, boolean v4, List<Found<T>> into) {
        if (n != null) {
            if (n.value != null) {
                into.add(new Found<>(n, v4));
            }
            collect(n.zero, v4, into);
            collect(n.one, v4, into);
        }
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
        byte[] raw = address.getAddress();
        return lookup(raw, 0, raw.length == 4);
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
            n = n.child(bit(hi, lo, n.cidr));
        }
        return best;
    }

    private static <T> T lookupExact(Node<T> n, long hi, long lo, int cidr) {
        while (n != null && n.cidr <= cidr && matches(n, hi, lo)) {
            if (n.cidr == cidr) {
                return n.value;
            }
            n = n.child(bit(hi, lo, n.cidr));
        }
        return null;
    }

    /** A node without a value exists only to branch: with fewer than two children it goes. */
    private static <T> Node<T> collapse(Node<T> n) {
        if (n.value != null || (n.zero != null && n.one != null)) {
            return n;
        }
        return n.zero != null ? n.zero : n.one;
    }

    /** The prefix masked to cidr bits; cidr must fit the family (0-32 or 0-128). */
    public static Prefix prefix(InetAddress address, int cidr) {
        return Entry.of(address, cidr).prefix();
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

    /** The high half of a mask of the first bits bits. */
    private static long maskHi(int bits) {
        return bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }

    /** The low half of a mask of the first bits bits. */
    private static long maskLo(int bits) {
        return bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
    }

    private static int be32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    private static long be64(byte[] b, int off) {
        return (long) be32(b, off) << 32 | (be32(b, off + 4) & 0xffffffffL);
    }
}
