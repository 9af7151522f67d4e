package jwg.tunnel;

import com.sun.jna.Native;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jwg.tun.Tun;

/**
 * The datagrams one thread sends between two flushes, written to the UDP socket by that thread itself: one
 * sendmmsg(2) per flush (or per {@link #MAX_MESSAGES} messages, or per {@link #AREA} bytes), from native memory this
 * batch owns. A run of datagrams to the same address, all of one size but the last, which may be shorter, is one
 * message with {@code UDP_SEGMENT}, which the kernel cuts up (or hands whole to a receiver with UDP_GRO, as a jwg
 * peer on the same host or over veth is). Sealed transport packets of one flow are exactly such a run: full-sized
 * data packets and a shorter tail. Anything else (another address, a bigger datagram, a full run) closes the run.
 *
 * <p>Why below Netty: a write from a thread that is not a Netty channel's event loop becomes a task on that loop, woken
 * through its eventfd, plus a DatagramPacket and a pooled buffer per message. Measured by bench/profile (1 TCP
 * stream, 2 cores): the sender's eventfd writes were 4.7 % of its TUN thread and its event loop ran the sends as
 * tasks between receives; the receiver's TUN thread handed every ACK to its event loop one at a time. Here the
 * thread that sealed the datagrams sends them, in the order it was given them.
 *
 * <p>Errors, message by message: EAGAIN or ENOBUFS (the socket's send buffer is full) is back-pressure, as a blocking
 * socket gives the kernel's and wireguard-go's senders: a thread other than the socket's event loop waits for room,
 * {@link #WAIT_MILLIS} at most; the event loop, which must stay free to take datagrams in, drops instead. A GSO
 * message the kernel refuses (EIO, EINVAL, EMSGSIZE) is told to the socket ({@link Socket#gsoRefused}) and sent
 * again one datagram at a time. Any other error drops that message's datagrams and counts them.
 *
 * <p>Thread-safety: one per sending thread (see {@link Udp#batch()}); nothing is shared but the socket, and the
 * socket is not closed under a send in progress ({@link #using}).
 */
final class SendBatch {
    /** The kernel's limit on segments per GSO send (UDP_MAX_SEGMENTS). */
    static final int MAX_SEGMENTS = 64;
    /**
     * Bytes per GSO send: the kernel refuses a UDP payload over 65,507 bytes (IPv4's 16-bit total length less the
     * headers), GSO or not; a little less keeps IPv6's header on the safe side too.
     */
    static final int MAX_BYTES = 65_000;
    /** Messages per sendmmsg. */
    static final int MAX_MESSAGES = 64;
    /** Bytes of datagrams held between two sends: two full runs, and room for the largest datagram UDP carries. */
    static final int AREA = 2 * 65_536;
    /** The longest a thread waits for room in the socket's send buffer before dropping what it holds. */
    static final int WAIT_MILLIS = 100;

    /** The socket as a batch needs it; {@link Udp} is the real one. */
    interface Socket {
        /** The socket to send on now; null: none. */
        UdpSocket current();

        /** The largest datagram UDP_SEGMENT may carry now (0: GSO is off). */
        int gsoLimit();

        /** The kernel refused a GSO send of segment-byte datagrams with errno. */
        void gsoRefused(int segment, int errno);

        /** n datagrams were lost to errno (never sent). */
        void failed(int n, int errno);
    }

    /** CMSG_SPACE(sizeof(uint16_t)): a cmsghdr (len, level, type) and the segment size, aligned. */
    private static final int CMSG = 24;
    private static final int CMSG_LEN = 18;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    // Layout of the native block: messages, their iovecs, control messages and addresses, a pollfd, then the data.
    private static final int IOVS = MAX_MESSAGES * Mmsghdr.SIZE;
    private static final int CMSGS = IOVS + MAX_MESSAGES * Mmsghdr.IOVEC;
    private static final int ADDRS = CMSGS + MAX_MESSAGES * CMSG;
    private static final int POLLFD = ADDRS + MAX_MESSAGES * Mmsghdr.SOCKADDR;
    private static final int DATA = POLLFD + 8;

    private final Socket socket;
    private final ByteBuffer mem;
    private final long base;

    /** Messages held, the last one possibly an open run. */
    private int messages;
    /** Bytes of data held. */
    private int used;
    /** Per message: its datagrams, their size (the last may be shorter) and their bytes together. */
    private final int[] counts = new int[MAX_MESSAGES];
    private final int[] segments = new int[MAX_MESSAGES];
    private final int[] lengths = new int[MAX_MESSAGES];

    /** The open run (the last message), if {@link #open}. */
    private boolean open;
    private InetSocketAddress to;
    /** The run's last datagram was shorter than the rest: nothing more may join it. */
    private boolean tail;

    /** The socket the held messages are for, and the address family it takes. */
    private UdpSocket current;
    private boolean ipv6Socket;
    /** The last address encoded, to encode each address once rather than per message. */
    private InetSocketAddress lastTo;
    private final byte[] lastSockaddr = new byte[Mmsghdr.SOCKADDR];

    /**
     * The socket this thread is sending on at this moment, or null: the socket's owner waits for it to be null (or
     * another socket) before closing one, so a send never reaches a descriptor number that was closed and
     * reused meanwhile. Written only by this batch's thread, read by the closer.
     */
    volatile UdpSocket using;

    /** Messages handed to the kernel, and how many of them were GSO sends (this thread's reads only: tests). */
    long messagesSent;
    long gsoMessagesSent;

    SendBatch(Socket socket) {
        this.socket = socket;
        this.mem = ByteBuffer.allocateDirect(DATA + AREA).order(ByteOrder.nativeOrder());
        this.base = com.sun.jna.Pointer.nativeValue(Native.getDirectBufferPointer(mem));
        for (int i = 0; i < MAX_MESSAGES; i++) {
            int m = i * Mmsghdr.SIZE;
            mem.putLong(m + Mmsghdr.NAME, base + ADDRS + (long) i * Mmsghdr.SOCKADDR);
            mem.putLong(m + Mmsghdr.IOV, base + IOVS + (long) i * Mmsghdr.IOVEC);
            mem.putLong(m + Mmsghdr.IOVLEN, 1);
            int c = CMSGS + i * CMSG;
            mem.putLong(c, CMSG_LEN);
            mem.putInt(c + 8, UdpSocket.SOL_UDP);
            mem.putInt(c + 12, UdpSocket.UDP_SEGMENT);
        }
        mem.putShort(POLLFD + 4, (short) Sys.POLLOUT);
    }

    /** Adds b[off, off+len) for to. False when there is no socket, or none that reaches to's family (dropped). */
    boolean add(byte[] b, int off, int len, InetSocketAddress to) {
        if (open && !fits(len, to)) {
            open = false;
        }
        if (!open) {
            UdpSocket ch = socket.current();
            if (ch == null) {
                return false;
            }
            if (ch != current || messages == MAX_MESSAGES || used + len > AREA) {
                send();
                if (ch != current) {
                    current = ch;
                    ipv6Socket = ch.ipv6;
                    lastTo = null;
                }
            }
            if (!ipv6Socket && to.getAddress() instanceof Inet6Address) {
                return false; // an IPv4-only socket (a kernel without IPv6) cannot reach it
            }
            startMessage(len, to);
        } else {
            int i = messages - 1;
            counts[i]++;
            lengths[i] += len;
            tail = len < segments[i];
        }
        mem.put(DATA + used, b, off, len);
        used += len;
        return true;
    }

    private boolean fits(int len, InetSocketAddress to) {
        int i = messages - 1;
        return !tail && len <= segments[i] && counts[i] < MAX_SEGMENTS && lengths[i] + len <= MAX_BYTES
                && used + len <= AREA && (to == this.to || to.equals(this.to));
    }

    private void startMessage(int len, InetSocketAddress to) {
        int i = messages++;
        counts[i] = 1;
        segments[i] = len;
        lengths[i] = len;
        mem.putLong(IOVS + i * Mmsghdr.IOVEC, base + DATA + used);
        mem.putInt(i * Mmsghdr.SIZE + Mmsghdr.NAMELEN, sockaddr(to, ADDRS + i * Mmsghdr.SOCKADDR));
        this.to = to;
        tail = false;
        // A datagram over the GSO limit is a message of its own; so is every datagram while GSO is off.
        open = len <= socket.gsoLimit();
    }

    /** Writes to's socket address at mem[at...] in the socket's family; returns its length. */
    private int sockaddr(InetSocketAddress to, int at) {
        if (to != lastTo) {
            encode(to, ipv6Socket, lastSockaddr);
            lastTo = to;
        }
        mem.put(at, lastSockaddr, 0, Mmsghdr.SOCKADDR);
        return ipv6Socket ? Mmsghdr.SOCKADDR : 16;
    }

    /** struct sockaddr_in6 (an IPv4 address mapped into it), or struct sockaddr_in for an IPv4-only socket. */
    static void encode(InetSocketAddress to, boolean ipv6Socket, byte[] out) {
        java.util.Arrays.fill(out, (byte) 0);
        InetAddress a = to.getAddress();
        byte[] ip = a.getAddress();
        int port = to.getPort();
        out[2] = (byte) (port >>> 8);
        out[3] = (byte) port;
        if (!ipv6Socket) {
            out[0] = AF_INET;
            System.arraycopy(ip, 0, out, 4, 4); // an IPv4 address: add() refuses the others for such a socket
            return;
        }
        out[0] = AF_INET6;
        if (a instanceof Inet4Address) {
            out[18] = (byte) 0xff;
            out[19] = (byte) 0xff;
            System.arraycopy(ip, 0, out, 20, 4);
        } else {
            System.arraycopy(ip, 0, out, 8, 16);
            int scope = ((Inet6Address) a).getScopeId();
            out[24] = (byte) scope;
            out[25] = (byte) (scope >>> 8);
            out[26] = (byte) (scope >>> 16);
            out[27] = (byte) (scope >>> 24);
        }
    }

    /**
     * The end of this thread's turn at a peer's queue: what it holds leaves now, since the peer's next packets may be
     * sent by another thread, from its own batch, and must not overtake these.
     */
    void handOff() {
        send();
    }

    /** Sends everything added since the last flush. */
    void flush() {
        send();
    }

    /** The held messages out, in order; the batch is empty afterwards. */
    private void send() {
        open = false;
        int n = messages;
        if (n == 0) {
            return;
        }
        UdpSocket ch = current;
        for (int i = 0; i < n; i++) {
            boolean gso = counts[i] > 1;
            mem.putLong(IOVS + i * Mmsghdr.IOVEC + 8, lengths[i]);
            mem.putLong(i * Mmsghdr.SIZE + Mmsghdr.CONTROL, gso ? base + CMSGS + (long) i * CMSG : 0);
            mem.putLong(i * Mmsghdr.SIZE + Mmsghdr.CONTROLLEN, gso ? CMSG : 0);
            if (gso) {
                mem.putShort(CMSGS + i * CMSG + 16, (short) segments[i]);
            }
        }
        using = ch;
        try {
            if (socket.current() != ch) {
                // Replaced (or closed) since these were added: they go out on the socket there is now, if any.
                ch = socket.current();
                if (ch == null || ch.ipv6 != ipv6Socket) {
                    lose(0, n, Sys.EBADF);
                    return;
                }
                using = ch;
                if (socket.current() != ch) {
                    lose(0, n, Sys.EBADF);
                    return;
                }
            }
            sendAll(ch, n);
        } finally {
            using = null;
            messages = 0;
            used = 0;
        }
    }

    private void sendAll(UdpSocket ch, int n) {
        int fd = ch.fd;
        boolean mayWait = !ch.inEventLoop();
        long waitedUntil = 0;
        for (int i = 0; i < n; ) {
            int sent = Sys.sendmmsg(fd, base + (long) i * Mmsghdr.SIZE, n - i, 0);
            if (sent > 0) {
                for (int k = i; k < i + sent; k++) {
                    gsoMessagesSent += counts[k] > 1 ? 1 : 0;
                }
                messagesSent += sent;
                i += sent;
                continue;
            }
            int errno = Native.getLastError();
            if (errno == Sys.EINTR) {
                continue;
            }
            if (errno == Sys.EAGAIN || errno == Sys.ENOBUFS) {
                if (mayWait) {
                    long now = System.nanoTime();
                    if (waitedUntil == 0) {
                        waitedUntil = now + WAIT_MILLIS * 1_000_000L;
                    }
                    if (now < waitedUntil && awaitWritable(fd, (int) ((waitedUntil - now) / 1_000_000L) + 1)) {
                        continue;
                    }
                }
                lose(i, n, errno);
                return;
            }
            if (counts[i] > 1 && (errno == Sys.EIO || errno == Sys.EINVAL || errno == Sys.EMSGSIZE)) {
                socket.gsoRefused(segments[i], errno);
                oneByOne(fd, i);
            } else {
                lose(i, i + 1, errno);
            }
            i++;
        }
    }

    /** Message i's datagrams, each a message of its own (after the kernel refused them as one GSO send). */
    private void oneByOne(int fd, int i) {
        long at = mem.getLong(IOVS + i * Mmsghdr.IOVEC);
        long total = lengths[i];
        int m = i * Mmsghdr.SIZE;
        mem.putLong(m + Mmsghdr.CONTROL, 0);
        mem.putLong(m + Mmsghdr.CONTROLLEN, 0);
        for (long done = 0; done < total; ) {
            long len = Math.min(segments[i], total - done);
            mem.putLong(IOVS + i * Mmsghdr.IOVEC, at + done);
            mem.putLong(IOVS + i * Mmsghdr.IOVEC + 8, len);
            int sent;
            do {
                sent = Sys.sendmmsg(fd, base + m, 1, 0);
            } while (sent < 0 && Native.getLastError() == Sys.EINTR);
            if (sent != 1) {
                socket.failed(1, Native.getLastError());
            }
            done += len;
        }
    }

    private boolean awaitWritable(int fd, int millis) {
        mem.putInt(POLLFD, fd);
        mem.putShort(POLLFD + 6, (short) 0);
        return Sys.poll(base + POLLFD, 1, millis) > 0;
    }

    /** Messages [from, to) are lost. */
    private void lose(int from, int to, int errno) {
        int n = 0;
        for (int i = from; i < to; i++) {
            n += counts[i];
        }
        socket.failed(n, errno);
    }

    /** The two calls, bound with JNA direct mapping (no copy, no allocation per call). */
    private static final class Sys {
        static final int EINTR = 4;
        static final int EIO = 5;
        static final int EBADF = 9;
        static final int EAGAIN = 11;
        static final int EINVAL = 22;
        static final int EMSGSIZE = 90;
        static final int ENOBUFS = 105;
        static final int POLLOUT = 4;

        static {
            Native.register(Sys.class, Tun.C_LIBRARY);
        }

        static native int sendmmsg(int fd, long msgvec, int vlen, int flags);

        static native int poll(long fds, long nfds, int timeoutMillis);
    }
}
