package jwg.tunnel;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import jwg.noise.Drop;

/**
 * The device's one UDP socket ({@link UdpSocket}: dual-stack, on Netty's epoll event loop), and both ways through it
 * below Netty's channels. In: the event loop takes up to {@link ReceiveBatch#SLOTS} messages per recvmmsg into one
 * {@link ReceiveBatch} and hands each datagram to the device where it landed. Out: transport data leaves through
 * {@link SendBatch}es, each sending thread's own sendmmsg on the socket; handshake messages through
 * {@link #sendDirect}.
 *
 * <p>With offloads (the default), the socket receives with UDP_GRO (the kernel hands over a run of one sender's
 * datagrams as one message of up to 64 KB, cut back into datagrams here without copying), and a run of up to
 * {@link SendBatch#MAX_SEGMENTS} same-sized datagrams leaves as one message with UDP GSO (one trip through the
 * stack). Without, every datagram is a message of its own both ways. A kernel that refuses a GSO send with EIO or
 * EINVAL (a route's device that cannot checksum) turns GSO off for the socket's life; EMSGSIZE (a segment over the
 * path MTU, as with a tunnel MTU above the underlay's) keeps datagrams of that size and bigger out of GSO sends, so
 * the kernel fragments them one by one. Either is said in the log.
 *
 * <p>Thread-safety: receiving on the event loop only; sendDirect and batch() from any thread (a buffer and a batch
 * per thread); bind/close under the device's configuration lock, and a socket they replace is closed only once no
 * batch is sending on it.
 */
final class Udp {
    private static final int EMSGSIZE = 90;
    /** recvmmsg calls per wake-up of the event loop before it looks at its other work (the socket is level-triggered). */
    private static final int READS_PER_WAKE = 4;
    /** 4 MiB each way: a few milliseconds of line rate, enough to absorb a peer's sendmmsg bursts. */
    static final int SOCKET_BUFFER = 4 << 20;

    private final Device device;
    private final boolean offloads;
    /** The largest datagram a GSO send may carry: everything, less after EMSGSIZE, nothing after EIO or EINVAL. */
    private volatile int gsoLimit;
    /** The largest message {@link #sendDirect} takes: any handshake message. */
    static final int DIRECT_MAX = 256;
    /** Each thread's buffer for {@link #sendDirect} (handshake and timer threads: a handful). */
    private final ThreadLocal<ByteBuffer> directOut = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(DIRECT_MAX));
    /** Every thread's batch, so that a socket is closed only when none is sending on it. */
    private final Queue<SendBatch> allBatches = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<SendBatch> batches = ThreadLocal.withInitial(() -> {
        SendBatch b = new SendBatch(new BatchSocket());
        allBatches.add(b);
        return b;
    });
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final IoEventLoop loop = (IoEventLoop) group.next();
    /** The event loop's. */
    private final ReceiveBatch received = new ReceiveBatch();
    private volatile UdpSocket socket;
    private volatile int port;
    private volatile int fwmark;
    /** Set by {@link #warmUp}, cleared by the event loop when the datagram arrives. */
    private volatile boolean warmUpInFlight;
    /** The warm-up's datagram: one byte, shorter than any WireGuard message. */
    private static final int WARM_UP_BYTES = 1;

    Udp(Device device, boolean offloads) {
        this.device = device;
        this.offloads = offloads;
    }

    /** The calling thread's batch of datagrams to send. */
    SendBatch batch() {
        return batches.get();
    }

    int port() {
        return port;
    }

    int fwmark() {
        return fwmark;
    }

    /**
     * Binds port (0: any free port) with fwmark (0: none); on success replaces the old socket, on failure keeps it.
     */
    synchronized void bind(int newPort, int newMark) throws IOException {
        bind(newPort, newMark, false);
    }

    /** As {@link #bind(int, int)} on 127.0.0.1 only: the start-up training's devices ({@link Training}). */
    synchronized void bindLoopback() throws IOException {
        bind(0, 0, true);
    }

    private void bind(int newPort, int newMark, boolean loopback) throws IOException {
        UdpSocket old = socket;
        if (old != null && newPort != 0 && newPort == port && newMark == fwmark) {
            return;
        }
        if (old != null && newPort == port) {
            // Same port: the old socket must go first, or the new bind fails with EADDRINUSE.
            socket = null;
            retire(old);
            old = null;
        }
        boolean[] capped = new boolean[1];
        UdpSocket s;
        try {
            s = UdpSocket.open(loop, newPort, loopback, offloads, fd -> {
                capped[0] = !Posix.forceBuffers(fd, SOCKET_BUFFER);
                if (newMark != 0) {
                    Posix.setMark(fd, newMark);
                }
            }, this::readable);
        } catch (IOException e) {
            throw new IOException("binding UDP port " + newPort + ": " + e.getMessage(), e);
        }
        if (capped[0]) {
            device.log().verbose("UDP socket buffers are capped by net.core.rmem_max/wmem_max (not root?)");
        }
        if (!s.ipv6) {
            device.log().info("no IPv6 UDP socket, using IPv4 only");
        }
        if (offloads && !s.gro) {
            device.log().info("UDP receive offload (UDP_GRO) refused by the kernel, receiving datagrams one by one");
        }
        gsoLimit = offloads && EpollDatagramChannel.isSegmentedDatagramPacketSupported() ? Integer.MAX_VALUE : 0;
        socket = s;
        port = s.port;
        fwmark = newMark;
        if (old != null) {
            retire(old);
        }
    }

    /**
     * Closes old, no longer {@link #socket}, once no batch is sending on it: a send that read its descriptor number
     * before the close must not reach whatever the number is given to next. A batch's send takes microseconds; the
     * wait is bounded (a batch waiting for room in a full send buffer gives up within {@link SendBatch#WAIT_MILLIS}).
     */
    private void retire(UdpSocket old) {
        long deadline = System.nanoTime() + 2 * SendBatch.WAIT_MILLIS * 1_000_000L;
        for (SendBatch b : allBatches) {
            while (b.using == old && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
        old.close();
    }

    /**
     * The socket has datagrams (event loop): each goes to the device where it landed, a GRO run cut at its segment
     * size, and after each recvmmsg the device sends on what it opened meanwhile.
     */
    private void readable(UdpSocket s) {
        ReceiveBatch r = received;
        for (int round = 0; round < READS_PER_WAKE; round++) {
            int n = r.read(s.fd);
            if (n < 0 && device.log().verbose()) {
                device.log().verbose("UDP: " + Posix.describe(-n));
            }
            if (n <= 0) {
                return;
            }
            for (int i = 0; i < n; i++) {
                if (r.truncated(i)) {
                    device.drops().count(Drop.TOO_BIG);
                    continue;
                }
                r.select(i);
                int at = r.offset(i);
                int end = at + r.length(i);
                int segment = r.segment(i);
                if (segment <= 0) {
                    device.receive(r.data(), at, 0, r); // an empty datagram: malformed, counted as such
                    continue;
                }
                for (; at < end; at += segment) {
                    device.receive(r.data(), at, Math.min(segment, end - at), r);
                }
            }
            device.receiveComplete();
            if (n < ReceiveBatch.SLOTS) {
                return;
            }
        }
    }

    /**
     * Sends buf[off, off+len) to `to` now, from the calling thread, with one sendto(2) on the socket: a handshake
     * message (a response, a cookie reply, an initiation) leaves without waiting for anything else. False if there is
     * no socket or its send buffer is full (the message is lost, as any datagram may be; the protocol's retries cover
     * it).
     */
    boolean sendDirect(byte[] buf, int off, int len, InetSocketAddress to) {
        UdpSocket s = socket;
        if (s == null || len > DIRECT_MAX) {
            return false;
        }
        ByteBuffer out = directOut.get().clear();
        out.put(buf, off, len).flip();
        return s.sendTo(out, len, to);
    }

    /**
     * Sends one junk byte to our own port on loopback: it exercises the send and receive paths (sendto, the event
     * loop's wake-up, recvmmsg), whose first use otherwise delayed the first handshake. The datagram never leaves
     * the host and is dropped uncounted (see {@link #tookWarmUp}): `jwg drops` on a daemon that saw no traffic is
     * empty. Where loopback is down, nothing happens.
     */
    void warmUp() {
        warmUpInFlight = true;
        InetSocketAddress self = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        if (!sendDirect(new byte[WARM_UP_BYTES], 0, WARM_UP_BYTES, self)) {
            warmUpInFlight = false;
        }
    }

    /**
     * Whether a one-byte datagram, about to be counted as malformed, is taken as the warm-up's own instead. Asked
     * only there, never on the path of a real message. The first one-byte datagram after {@link #warmUp} is taken,
     * whoever sent it: if a stranger's came first, it goes uncounted and the warm-up's is counted in its place, so
     * the count stays right.
     */
    boolean tookWarmUp(int len) {
        if (len != WARM_UP_BYTES || !warmUpInFlight) {
            return false;
        }
        warmUpInFlight = false;
        return true;
    }

    synchronized void close() {
        UdpSocket s = socket;
        socket = null;
        if (s != null) {
            retire(s);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** What a {@link SendBatch} asks of the socket. */
    private final class BatchSocket implements SendBatch.Socket {
        @Override
        public UdpSocket current() {
            return socket;
        }

        @Override
        public int gsoLimit() {
            return gsoLimit;
        }

        @Override
        public void gsoRefused(int segment, int errno) {
            String why = Posix.describe(errno);
            if (errno == EMSGSIZE) {
                // A segment over the route's MTU (a tunnel MTU above the underlay's): the kernel fragments such
                // datagrams when they go one by one, never in a GSO send.
                int limit = Math.max(Math.min(gsoLimit, segment - 1), 0);
                if (limit < gsoLimit) {
                    gsoLimit = limit;
                    device.log().info("UDP segmentation offload refused for " + segment + "-byte datagrams (" + why
                            + "), sending those one by one from now on");
                }
            } else if (gsoLimit > 0) {
                gsoLimit = 0;
                device.log().info("UDP segmentation offload refused by the kernel (" + why + "), sending datagrams"
                        + " one by one from now on");
            }
        }

        @Override
        public void failed(int n, int errno) {
            device.drops().count(Drop.SEND_FAILED, n);
            if (device.log().verbose()) {
                device.log().verbose("UDP: " + n + " datagram(s) not sent: " + Posix.describe(errno));
            }
        }
    }
}
