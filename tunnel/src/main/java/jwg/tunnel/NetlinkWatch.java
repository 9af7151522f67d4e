package jwg.tunnel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import jwg.roaming.Addresses;
import jwg.tun.Tun;

/**
 * Tells the daemon, as it happens, that the machine's own network path has changed: an address went away or came,
 * the main routing table gained or lost a route (typically the default route being replaced), or a link went down or
 * up. A laptop or field device that switches uplink otherwise goes unnoticed until traffic has gone unanswered for a
 * while; with this, roaming can re-resolve and probe its peers at once. The watcher only says what changed, in a short
 * line fit for a log; deciding whether to act, and how often, is the caller's business.
 *
 * <p>What counts, and why the rest does not:
 * <ul>
 *   <li>Links ({@code RTM_NEWLINK}/{@code RTM_DELLINK}) whose up/running/lower-up state changed, new links and removed
 *       ones. The kernel also sends a link message for every MTU, name or statistics change; those say nothing about
 *       the path. Only the generic (AF_UNSPEC) link messages are read: a bridge repeats its ports' changes as AF_BRIDGE
 *       ones, where a "removed" means "left the bridge", not "gone".
 *   <li>IPv4 and IPv6 addresses added or removed, except IPv6 link-local ones (fe80::/10): every link that comes up
 *       gets one, and no peer on the internet is reached from it.
 *   <li>Unicast routes of the main table, added or removed. Other tables are policy routing, most notably table 51820
 *       in which wg-quick puts a full tunnel's default route through the WireGuard device itself; the local table only
 *       holds the machine's own and broadcast addresses; cloned entries are the kernel's per-destination cache.
 *   <li>Nothing on the daemon's own TUN device ({@code ignoredIfIndex}): wg-quick adds its addresses and routes to it
 *       at start, and the tunnel going up is not the path to the peers changing.
 * </ul>
 *
 * <p>Threading: one daemon thread, "jwg-netlink", owns the socket from start to end: it polls, reads, parses, calls
 * {@code onChange} and finally closes the socket. {@code onChange} runs on that thread, so it must only note the change
 * (set a flag, enqueue, wake someone) and return: while it runs nothing is read, and the kernel drops what does not
 * fit in the socket's buffer, which this then reports as a loss of events. {@link #close()} asks the thread to stop
 * and waits for it; the thread's poll wakes at least once a second to see the request.
 */
final class NetlinkWatch implements AutoCloseable {
    // <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>, <linux/if.h>
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_ROUTE = 0;
    private static final int RTMGRP_LINK = 0x1;
    private static final int RTMGRP_IPV4_IFADDR = 0x10;
    private static final int RTMGRP_IPV4_ROUTE = 0x40;
    private static final int RTMGRP_IPV6_IFADDR = 0x100;
    private static final int RTMGRP_IPV6_ROUTE = 0x400;
    private static final int GROUPS =
            RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE;

    private static final int AF_UNSPEC = 0;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    private static final int NLMSG_HDRLEN = 16;
    private static final int RTM_NEWLINK = 16;
    private static final int RTM_DELLINK = 17;
    private static final int RTM_NEWADDR = 20;
    private static final int RTM_DELADDR = 21;
    private static final int RTM_NEWROUTE = 24;
    private static final int RTM_DELROUTE = 25;

    private static final int IFINFOMSG_LEN = 16;
    private static final int IFADDRMSG_LEN = 8;
    private static final int RTMSG_LEN = 12;
    private static final int RTA_HDRLEN = 4;
    /** rta_type's top two bits are flags (nested, network byte order), not part of the type. */
    private static final int RTA_TYPE_MASK = 0x3fff;

    private static final int IFF_UP = 0x1;
    private static final int IFF_RUNNING = 0x40;
    private static final int IFF_LOWER_UP = 0x10000;
    private static final int IFLA_IFNAME = 3;
    private static final int IFA_ADDRESS = 1;
    private static final int IFA_F_TENTATIVE = 0x40;
    private static final int IFA_LOCAL = 2;
    private static final int RTA_DST = 1;
    private static final int RTA_OIF = 4;
    private static final int RTA_GATEWAY = 5;
    private static final int RTA_TABLE = 15;
    private static final int RT_TABLE_MAIN = 254;
    private static final int RTN_UNICAST = 1;
    private static final int RTM_F_CLONED = 0x200;

    private static final short POLLIN = 0x1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int ENOBUFS = 105;
    private static final int POLL_MILLIS = 1000;
    /** Each notification comes as a datagram of its own, a link's the largest (1.5 KiB here): 64 KiB is ample. */
    private static final int RECEIVE_BYTES = 64 * 1024;

    static final String EVENTS_LOST = "netlink events lost (receive buffer overrun)";

    private final int fd;
    private final int ignoredIfIndex;
    private final Consumer<String> onChange;
    private final Thread thread;
    private volatile boolean stopping;
    /** Each link's last known state (up and running), by ifindex: the thread's own, seeded from /sys at start. */
    private final Map<Integer, Boolean> linkUp = new HashMap<>();

    private NetlinkWatch(int fd, int ignoredIfIndex, Consumer<String> onChange) {
        this.fd = fd;
        this.ignoredIfIndex = ignoredIfIndex;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "jwg-netlink");
        thread.setDaemon(true);
    }

    /**
     * Opens a NETLINK_ROUTE socket subscribed to link, IPv4/IPv6 address and IPv4/IPv6 route groups and starts a daemon
     * thread "jwg-netlink" that calls onChange(description) for each relevant change. ignoredIfIndex: the daemon's own
     * TUN interface (its addresses and routes, which wg-quick adds, are not a change of the path); 0 for none.
     *
     * @throws IOException with the errno text if the socket cannot be opened or bound
     */
    static NetlinkWatch start(int ignoredIfIndex, Consumer<String> onChange) throws IOException {
        Objects.requireNonNull(onChange, "onChange");
        if (!Platform.isLinux()) {
            throw new IOException("netlink is Linux only");
        }
        int fd = Sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
            throw new IOException("cannot open a netlink socket: " + Sys.errnoText(Native.getLastError()));
        }
        // sockaddr_nl: family, padding, port id 0 (the kernel picks one), the multicast groups to join.
        byte[] address = new byte[12];
        ByteBuffer.wrap(address).order(ByteOrder.nativeOrder())
                .putShort((short) AF_NETLINK).putShort((short) 0).putInt(0).putInt(GROUPS);
        if (Sys.bind(fd, address, address.length) != 0) {
            int errno = Native.getLastError();
            Sys.close(fd);
            throw new IOException("cannot bind a netlink socket to the route groups: " + Sys.errnoText(errno));
        }
        NetlinkWatch watch = new NetlinkWatch(fd, ignoredIfIndex, onChange);
        watch.seedLinkStates(Path.of("/sys/class/net"));
        try {
            watch.thread.start();
        } catch (Throwable t) {
            Sys.close(fd);
            throw t;
        }
        return watch;
    }

    /**
     * Stops the thread and closes the socket, waiting up to a few seconds for the thread to see the request (it looks
     * at least once a second; longer only if onChange is slow). Idempotent; may be called from onChange itself, in
     * which case the socket is closed as soon as onChange returns.
     */
    @Override
    public void close() {
        stopping = true;
        if (Thread.currentThread() == thread) {
            return;
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Reads each link's state before any event comes (after the socket is bound, so a change in between is seen as an
     * event): a carrier lost later is then told from a message that changes nothing. A link that cannot be read is
     * simply not known; its first state message then only records it.
     */
    private void seedLinkStates(Path sysClassNet) {
        try (var links = Files.list(sysClassNet)) {
            for (Path link : (Iterable<Path>) links::iterator) {
                try {
                    int index = Integer.parseInt(Files.readString(link.resolve("ifindex")).strip());
                    int flags = Integer.decode(Files.readString(link.resolve("flags")).strip());
                    linkUp.put(index, (flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING));
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile, or unreadable: not known
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /sys: every link starts unknown
        }
    }

    /** The thread's body: everything it allocates is allocated here, once. */
    private void run() {
        Memory pollFd = new Memory(8);
        Memory receive = new Memory(RECEIVE_BYTES);
        ByteBuffer view = receive.getByteBuffer(0, RECEIVE_BYTES).order(ByteOrder.nativeOrder());
        Consumer<String> deliver = this::deliver;
        // The socket's buffer overflowed and the kernel dropped notifications; which ones is unknowable, so the caller
        // is told that anything may have changed. Not at once: the kernel reports the overrun before the messages
        // still queued, and goes on dropping new ones, without a word, until the queue has been read empty. Told
        // then, the caller looks at the network after the last notification that may have gone missing.
        boolean lost = false;
        try {
            long pollAddress = Pointer.nativeValue(pollFd);
            long receiveAddress = Pointer.nativeValue(receive);
            while (!stopping) {
                // struct pollfd { int fd; short events; short revents; }
                pollFd.setInt(0, fd);
                pollFd.setShort(4, POLLIN);
                pollFd.setShort(6, (short) 0);
                int ready = Sys.poll(pollAddress, 1, POLL_MILLIS);
                if (ready < 0 && Native.getLastError() != EINTR) {
                    return;
                }
                // Drain what is queued, then poll again. Polling first (rather than a blocking read) is what lets
                // close() stop the thread: a read blocked on a netlink socket is not woken by closing it.
                while (ready > 0 && !stopping) {
                    long n = Sys.recv(fd, receiveAddress, RECEIVE_BYTES, MSG_DONTWAIT);
                    if (n < 0) {
                        int errno = Native.getLastError();
                        if (errno == EAGAIN) {
                            if (lost) {
                                lost = false;
                                deliver(EVENTS_LOST);
                            }
                            break;
                        } else if (errno == ENOBUFS) {
                            lost = true;
                        } else if (errno != EINTR) {
                            return;
                        }
                        continue;
                    }
                    if (n == 0) {
                        break;
                    }
                    view.clear().limit((int) Math.min(n, RECEIVE_BYTES));
                    parse(view, ignoredIfIndex, deliver, linkUp);
                }
            }
        } catch (RuntimeException e) {
            // The parser does not throw by design; if it ever did, losing the watcher beats losing the daemon.
        } finally {
            Sys.close(fd);
            pollFd.close();
            receive.close();
        }
    }

    /** onChange must not end the watcher, whatever it throws (short of the JVM itself failing). */
    private void deliver(String description) {
        try {
            onChange.accept(description);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            // The caller's problem, and the next change must still reach it.
        }
    }

    /**
     * Pure parser, for tests: the descriptions of the relevant changes in one datagram of netlink messages (buf from
     * position to limit, native byte order), in order. Never throws on malformed input: a truncated or bad message ends
     * the parse. buf's position and limit are left as they were.
     */
    static List<String> changes(ByteBuffer buf, int ignoredIfIndex) {
        return changes(buf, ignoredIfIndex, null);
    }

    /** As {@link #changes(ByteBuffer, int)}, remembering links' states in linkUp (ifindex to up) as the watcher does. */
    static List<String> changes(ByteBuffer buf, int ignoredIfIndex, Map<Integer, Boolean> linkUp) {
        List<String> out = new ArrayList<>();
        parse(buf, ignoredIfIndex, out::add, linkUp);
        return out;
    }

    /** Walks the messages of one datagram, handing each relevant change to out; only absolute reads, so buf is intact. */
    private static void parse(ByteBuffer buf, int ignoredIfIndex, Consumer<String> out, Map<Integer, Boolean> linkUp) {
        int at = buf.position();
        int end = buf.limit();
        while (end - at >= NLMSG_HDRLEN) {
            int length = buf.getInt(at);
            if (length < NLMSG_HDRLEN || length > end - at) {
                return;
            }
            int type = buf.getShort(at + 4) & 0xffff;
            int body = at + NLMSG_HDRLEN;
            int bodyEnd = at + length;
            String description;
            switch (type) {
                case RTM_NEWLINK, RTM_DELLINK -> {
                    if (!wellFormed(buf, body, bodyEnd, IFINFOMSG_LEN)) {
                        return;
                    }
                    description = link(buf, body, bodyEnd, type == RTM_NEWLINK, ignoredIfIndex, linkUp);
                }
                case RTM_NEWADDR, RTM_DELADDR -> {
                    if (!wellFormed(buf, body, bodyEnd, IFADDRMSG_LEN)) {
                        return;
                    }
                    description = address(buf, body, bodyEnd, type == RTM_NEWADDR, ignoredIfIndex);
                }
                case RTM_NEWROUTE, RTM_DELROUTE -> {
                    if (!wellFormed(buf, body, bodyEnd, RTMSG_LEN)) {
                        return;
                    }
                    description = route(buf, body, bodyEnd, type == RTM_NEWROUTE, ignoredIfIndex);
                }
                default -> description = null;
            }
            if (description != null) {
                out.accept(description);
            }
            // NLMSG_ALIGN; the last message of a datagram may lack its padding, which simply ends the loop.
            at += (length + 3) & ~3;
        }
    }

    /** Whether the body holds its fixed header and then a sequence of attributes each lying within the body. */
    private static boolean wellFormed(ByteBuffer buf, int body, int bodyEnd, int headerLength) {
        if (bodyEnd - body < headerLength) {
            return false;
        }
        int at = body + headerLength;
        while (bodyEnd - at >= RTA_HDRLEN) {
            int length = buf.getShort(at) & 0xffff;
            if (length < RTA_HDRLEN || length > bodyEnd - at) {
                return false;
            }
            at += (length + 3) & ~3;
        }
        return true;
    }

    /** The offset of the payload of the first attribute of this type after the fixed header, or -1 if none. */
    private static int attribute(ByteBuffer buf, int from, int to, int type) {
        int at = from;
        while (to - at >= RTA_HDRLEN) {
            int length = buf.getShort(at) & 0xffff;
            if (length < RTA_HDRLEN || length > to - at) {
                return -1;
            }
            if ((buf.getShort(at + 2) & RTA_TYPE_MASK) == type) {
                return at + RTA_HDRLEN;
            }
            at += (length + 3) & ~3;
        }
        return -1;
    }

    private static int payloadLength(ByteBuffer buf, int payload) {
        return (buf.getShort(payload - RTA_HDRLEN) & 0xffff) - RTA_HDRLEN;
    }

    /** ifinfomsg: "link eth1 (ifindex 4) up|down|removed", or null if nothing about the path changed. */
    private static String link(ByteBuffer buf, int body, int bodyEnd, boolean isNew, int ignoredIfIndex,
                               Map<Integer, Boolean> linkUp) {
        int family = buf.get(body) & 0xff;
        int index = buf.getInt(body + 4);
        int flags = buf.getInt(body + 8);
        int change = buf.getInt(body + 12);
        if (family != AF_UNSPEC || index == ignoredIfIndex && ignoredIfIndex != 0) {
            return null;
        }
        // Administratively up is not enough to carry traffic: the carrier must be there too (RUNNING).
        boolean up = (flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
        Boolean before = linkUp == null ? null : isNew ? linkUp.put(index, up) : linkUp.remove(index);
        // ifi_change is all ones for a link just created; otherwise the flags this message changed. Names, MTU and
        // statistics come with no flag changed; so, though, does a carrier coming or going (a cable, a Wi-Fi
        // association), which the kernel tells as a bare state change once it has settled: that is why the watcher
        // remembers each link's last state (linkUp), and such a message counts when the state differs from it.
        if (isNew && change != -1 && (change & (IFF_UP | IFF_RUNNING | IFF_LOWER_UP)) == 0
                && (before == null || before == up)) {
            return null;
        }
        StringBuilder s = new StringBuilder(48).append("link ");
        int name = attribute(buf, body + IFINFOMSG_LEN, bodyEnd, IFLA_IFNAME);
        if (name >= 0) {
            appendName(s, buf, name, payloadLength(buf, name));
            s.append(' ');
        }
        s.append("(ifindex ").append(Integer.toUnsignedString(index)).append(") ");
        if (!isNew) {
            return s.append("removed").toString();
        }
        return s.append(up ? "up" : "down").toString();
    }

    /** ifaddrmsg: "address 10.0.1.1/24 added|removed (ifindex 3)", or null if not a change of the path. */
    private static String address(ByteBuffer buf, int body, int bodyEnd, boolean isNew, int ignoredIfIndex) {
        int family = buf.get(body) & 0xff;
        int prefixLength = buf.get(body + 1) & 0xff;
        int index = buf.getInt(body + 4);
        int size = addressSize(family);
        if (size == 0 || index == ignoredIfIndex && ignoredIfIndex != 0 || prefixLength > size * 8) {
            return null;
        }
        // An IPv6 address is first announced while duplicate address detection runs, and again once it may be used
        // (1-2 s later on a real link): acting on the first would probe from an address that cannot send yet.
        if (isNew && (buf.get(body + 2) & IFA_F_TENTATIVE) != 0) {
            return null;
        }
        // IFA_ADDRESS is the peer's address on a point-to-point link; IFA_LOCAL, when present, is always ours.
        int attrs = body + IFADDRMSG_LEN;
        int address = attribute(buf, attrs, bodyEnd, IFA_LOCAL);
        if (address < 0) {
            address = attribute(buf, attrs, bodyEnd, IFA_ADDRESS);
        }
        if (address < 0 || payloadLength(buf, address) != size) {
            return null;
        }
        if (family == AF_INET6 && (buf.get(address) & 0xff) == 0xfe && (buf.get(address + 1) & 0xc0) == 0x80) {
            return null;
        }
        StringBuilder s = new StringBuilder(64).append("address ");
        appendAddress(s, buf, address, size);
        s.append('/').append(prefixLength).append(isNew ? " added" : " removed");
        return s.append(" (ifindex ").append(Integer.toUnsignedString(index)).append(')').toString();
    }

    /** rtmsg: "route default|10.9.0.0/16 [via 10.0.2.254] added|removed [(ifindex 4)]", or null if not relevant. */
    private static String route(ByteBuffer buf, int body, int bodyEnd, boolean isNew, int ignoredIfIndex) {
        int family = buf.get(body) & 0xff;
        int destinationLength = buf.get(body + 1) & 0xff;
        int table = buf.get(body + 4) & 0xff;
        int type = buf.get(body + 7) & 0xff;
        int flags = buf.getInt(body + 8);
        int size = addressSize(family);
        if (size == 0 || type != RTN_UNICAST || (flags & RTM_F_CLONED) != 0 || destinationLength > size * 8) {
            return null;
        }
        int attrs = body + RTMSG_LEN;
        // rtm_table is a byte: tables past 255 (wg-quick's 51820) have it at RT_TABLE_COMPAT and the id in RTA_TABLE.
        int tableId = attribute(buf, attrs, bodyEnd, RTA_TABLE);
        if (tableId >= 0 && payloadLength(buf, tableId) >= 4) {
            table = buf.getInt(tableId);
        }
        if (table != RT_TABLE_MAIN) {
            return null;
        }
        int oif = attribute(buf, attrs, bodyEnd, RTA_OIF);
        int outIndex = oif >= 0 && payloadLength(buf, oif) >= 4 ? buf.getInt(oif) : 0;
        if (outIndex != 0 && outIndex == ignoredIfIndex) {
            return null;
        }
        StringBuilder s = new StringBuilder(80).append("route ");
        if (destinationLength == 0) {
            s.append("default");
        } else {
            int destination = attribute(buf, attrs, bodyEnd, RTA_DST);
            if (destination < 0 || payloadLength(buf, destination) != size) {
                return null;
            }
            appendAddress(s, buf, destination, size);
            s.append('/').append(destinationLength);
        }
        int gateway = attribute(buf, attrs, bodyEnd, RTA_GATEWAY);
        if (gateway >= 0 && payloadLength(buf, gateway) == size) {
            appendAddress(s.append(" via "), buf, gateway, size);
        }
        s.append(isNew ? " added" : " removed");
        if (outIndex != 0) {
            s.append(" (ifindex ").append(Integer.toUnsignedString(outIndex)).append(')');
        }
        return s.toString();
    }

    private static int addressSize(int family) {
        return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    }

    /** The address as the stock tools print it (RFC 5952 for IPv6), through roaming's formatter. */
    private static void appendAddress(StringBuilder s, ByteBuffer buf, int at, int size) {
        byte[] raw = new byte[size];
        buf.get(at, raw);
        try {
            s.append(Addresses.format(InetAddress.getByAddress(raw)));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + size + " bytes", e); // 4 or 16: cannot happen
        }
    }

    /** An interface name is up to 15 bytes ending in NUL; anything unprintable is shown as '?' so a log line stays one. */
    private static void appendName(StringBuilder s, ByteBuffer buf, int at, int length) {
        for (int i = 0; i < length; i++) {
            int c = buf.get(at + i) & 0xff;
            if (c == 0) {
                return;
            }
            s.append(c > 0x20 && c < 0x7f ? (char) c : '?');
        }
    }

    /** The libc calls the watcher needs, bound by JNA direct mapping (which records errno for Native.getLastError). */
    private static final class Sys {
        static {
            Native.register(Sys.class, Tun.C_LIBRARY);
        }

        private Sys() {}

        static native int socket(int domain, int type, int protocol);

        static native int bind(int fd, byte[] address, int addressLength);

        static native int poll(long fds, long count, int timeoutMillis);

        static native long recv(int fd, long buf, long length, int flags);

        static native int close(int fd);

        static native String strerror(int errno);

        static String errnoText(int errno) {
            return strerror(errno) + " (errno " + errno + ")";
        }
    }
}
