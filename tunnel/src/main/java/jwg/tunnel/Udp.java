package jwg.tunnel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import jwg.noise.Drop;

/**
 * The device's one UDP socket, through Netty's epoll transport: AF_INET6 bound to the wildcard address, so
 * dual-stack (IPv4 peers appear as plain IPv4 addresses).
 *
 * <p>Transport data leaves through {@link SendBatch}es, each sending thread's own sendmmsg on the socket, below Netty.
 * With offloads (the default), a run of up to {@link SendBatch#MAX_SEGMENTS} same-sized datagrams is one message with
 * UDP GSO (one trip through the stack), and the socket receives with UDP_GRO: the
 * kernel hands over a run of datagrams from one sender as one buffer of up to 64 KB, which Netty cuts back into
 * datagrams without copying. GRO goes with plain recvmsg, because Netty 4.2.18 passes GRO buffers through recvmmsg
 * unsplit. Without offloads, it receives with recvmmsg, up to {@link #BATCH} datagrams a call, and each datagram
 * is a message of its own in the senders' sendmmsg. A kernel that refuses a GSO send with EIO or EINVAL (a route's device that
 * cannot checksum) turns GSO off for the socket's life; EMSGSIZE (a segment over the path MTU, as with a tunnel MTU
 * above the underlay's) keeps datagrams of that size and bigger out of GSO sends, so the kernel fragments them one
 * by one. Either is said in the log.
 *
 * <p>Thread-safety: send/flush from any thread (Netty hands writes to its event loop, keeping each thread's order);
 * sendDirect and batch() from any thread (a buffer and a batch per thread); bind/close under the device's
 * configuration lock, and a socket they replace is closed only once no batch is sending on it.
 */
final class Udp {
    static final int BATCH = 16;
    private static final int EMSGSIZE = 90;
    /**
     * The largest datagram received whole: UDP's own limit, so that any tunnel MTU a peer may use (up to 65,535 less
     * WireGuard's 32 bytes) gets through; it is also the most a GRO receive returns at once.
     */
    static final int MAX_DATAGRAM = 65_535;
    /** 4 MiB each way: a few milliseconds of line rate, enough to absorb a peer's sendmmsg bursts. */
    static final int SOCKET_BUFFER = 4 << 20;
    /**
     * Bytes queued in Netty for the socket before sends are refused (counted as dropped): without a bound, a sender
     * faster than the socket filled direct memory until receiving failed too.
     */
    static final int SEND_BACKLOG = 4 << 20;

    private final Device device;
    private final boolean offloads;
    /** The receive buffer: one GRO run, or one recvmmsg batch; GSO sends fit in it too. */
    private final int receiveBuffer;
    private final DatagramBuffers buffers;
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
    private volatile Channel channel;
    private volatile int port;
    private volatile int fwmark;

    Udp(Device device, boolean offloads) {
        this.device = device;
        this.offloads = offloads;
        this.receiveBuffer = offloads ? MAX_DATAGRAM + 1 : MAX_DATAGRAM * BATCH;
        this.buffers = new DatagramBuffers(receiveBuffer);
    }

    Channel channel() {
        return channel;
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
        Channel old = channel;
        if (old != null && newPort != 0 && newPort == port && newMark == fwmark) {
            return;
        }
        if (old != null && newPort == port) {
            // Same port: the old socket must go first, or the new bind fails with EADDRINUSE.
            channel = null;
            retire(old);
            old = null;
        }
        boolean gro = offloads;
        Channel ch;
        try {
            ch = new Bootstrap()
                    .group(group)
                    .channelFactory(this::newChannel)
                    .option(EpollChannelOption.UDP_GRO, gro)
                    .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, gro ? 0 : MAX_DATAGRAM)
                    .option(ChannelOption.ALLOCATOR, buffers)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(receiveBuffer))
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(SEND_BACKLOG / 2,
                            SEND_BACKLOG))
                    .handler(new Inbound())
                    .bind(new InetSocketAddress(newPort))
                    .syncUninterruptibly()
                    .channel();
        } catch (Exception e) {
            throw new IOException("binding UDP port " + newPort + ": " + e.getMessage(), e);
        }
        if (!Posix.forceBuffers(((EpollDatagramChannel) ch).fd().intValue(), SOCKET_BUFFER)) {
            device.log().verbose("UDP socket buffers are capped by net.core.rmem_max/wmem_max (not root?)");
        }
        if (newMark != 0) {
            try {
                Posix.setMark(((EpollDatagramChannel) ch).fd().intValue(), newMark);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        }
        gsoLimit = offloads && EpollDatagramChannel.isSegmentedDatagramPacketSupported() ? Integer.MAX_VALUE : 0;
        channel = ch;
        port = ((InetSocketAddress) ch.localAddress()).getPort();
        fwmark = newMark;
        if (old != null) {
            retire(old);
        }
    }

    /**
     * Closes old, no longer {@link #channel}, once no batch is sending on it: a send that read its descriptor number
     * before the close must not reach whatever the number is given to next. A batch's send takes microseconds; the
     * wait is bounded (a batch waiting for room in a full send buffer gives up within {@link SendBatch#WAIT_MILLIS}).
     */
    private void retire(Channel old) {
        long deadline = System.nanoTime() + 2 * SendBatch.WAIT_MILLIS * 1_000_000L;
        for (SendBatch b : allBatches) {
            while (b.usingChannel == old && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
        old.close().syncUninterruptibly();
    }

    /**
     * An AF_INET6 socket whatever the namespace looks like now (Netty clears IPV6_V6ONLY on it, so IPv4 peers still
     * come and go as plain IPv4 addresses). Netty's own default family is decided once per process by binding a probe
     * to ::1: a daemon started while loopback was down (boot, a fresh container) got an IPv4-only socket for good, and
     * IPv6 endpoints configured later failed with EAFNOSUPPORT. Only a kernel without IPv6 at all (ipv6.disable=1)
     * refuses the AF_INET6 socket; IPv4 is all there is then.
     */
    private EpollDatagramChannel newChannel() {
        try {
            return new EpollDatagramChannel(SocketProtocolFamily.INET6);
        } catch (ChannelException e) {
            Throwable why = e.getCause() != null ? e.getCause() : e;
            device.log().info("no IPv6 UDP socket (" + why.getMessage() + "), using IPv4 only");
            return new EpollDatagramChannel(SocketProtocolFamily.INET);
        }
    }

    /**
     * Queues buf[off, off+len) for to; it leaves on the next {@link #flush}. False when there is no socket, or more
     * than {@link #SEND_BACKLOG} bytes wait for it already.
     */
    boolean send(byte[] buf, int off, int len, InetSocketAddress to) {
        Channel ch = channel;
        if (ch == null || !ch.isWritable()) {
            return false;
        }
        ByteBuf out = ch.alloc().directBuffer(len);
        out.writeBytes(buf, off, len);
        ch.write(new DatagramPacket(out, to), ch.voidPromise());
        return true;
    }

    /**
     * Sends buf[off, off+len) to `to` now, from the calling thread, with one sendto(2) on the socket: a handshake
     * message (a response, a cookie reply, an initiation) leaves without a trip through the event loop, which under
     * a flood is busy taking datagrams in. False if there is no socket or its send buffer is full (the message is
     * lost, as any datagram may be; the protocol's retries cover it).
     */
    boolean sendDirect(byte[] buf, int off, int len, InetSocketAddress to) {
        Channel ch = channel;
        if (ch == null || len > DIRECT_MAX) {
            return false;
        }
        ByteBuffer out = directOut.get().clear();
        out.put(buf, off, len).flip();
        try {
            return ((Socket) ((EpollDatagramChannel) ch).fd()).sendTo(out, 0, len, to.getAddress(), to.getPort())
                    == len;
        } catch (IOException e) {
            return false;
        }
    }

    void flush() {
        Channel ch = channel;
        if (ch != null) {
            ch.flush();
        }
    }

    /**
     * Sends one junk byte to our own port on loopback: it exercises the send and receive paths (pooled allocator,
     * outbound buffer, recvmmsg), whose first use otherwise delayed the first handshake by ~200 ms. The datagram
     * never leaves the host and is dropped as malformed; where loopback is down, nothing happens.
     */
    void warmUp() {
        send(new byte[1], 0, 1, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        flush();
    }

    synchronized void close() {
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            retire(ch);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private final class Inbound extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            device.receive(packet.content(), packet.sender());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            device.receiveComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            device.log().verbose("UDP: " + cause.getMessage());
        }
    }

    /** What a {@link SendBatch} asks of the socket. */
    private final class BatchSocket implements SendBatch.Socket {
        @Override
        public Channel channel() {
            return channel;
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
