package jwg.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import java.net.InetSocketAddress;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The datagrams one thread sends between two flushes, packed for UDP generic segmentation offload: a run of
 * datagrams to the same address, all of one size but the last, which may be shorter, leaves as one buffer and one
 * {@code UDP_SEGMENT} send that the kernel cuts up (or hands whole to a receiver with UDP_GRO, as a jwg peer on the
 * same host or over veth is). Sealed transport packets of one flow are exactly such a run: full-sized data packets
 * and a shorter tail. Anything else (another address, a bigger datagram, a full buffer) closes the run.
 *
 * <p>Without GSO (refused by the kernel, or turned off), or for datagrams bigger than GSO may carry on this path,
 * each datagram is its own message, and Netty still writes a flush's worth with one sendmmsg.
 *
 * <p>Thread-safety: one per sending thread (see {@link Udp#batch()}); nothing is shared but the channel.
 */
final class SendBatch {
    /** The kernel's limit on segments per GSO send (UDP_MAX_SEGMENTS). */
    static final int MAX_SEGMENTS = 64;
    /**
     * Bytes per GSO send: the kernel refuses a UDP payload over 65,507 bytes (IPv4's 16-bit total length less the
     * headers), GSO or not; a little less keeps IPv6's header on the safe side too.
     */
    static final int MAX_BYTES = 65_000;

    private static final long WAIT_NANOS = 100_000_000;
    private static final long WAIT_STEP_NANOS = 20_000;

    private final Supplier<Channel> socket;
    private final IntSupplier gsoLimit;
    private final IntConsumer gsoSent;
    private ByteBuf buf;
    private Channel channel;
    private InetSocketAddress to;
    private int segment;
    private int count;
    /** The run's last datagram was shorter than the rest: nothing more may join it. */
    private boolean tail;
    /** Whether this run is one GSO send (decided when it opens: GSO may be turned off meanwhile). */
    private boolean segmented;

    /**
     * socket: the channel to send on now (null: none); gsoLimit: the largest datagram UDP_SEGMENT may carry now (0:
     * none); gsoSent: told the segment size of each GSO send, so that a refusal can be traced to it.
     */
    SendBatch(Supplier<Channel> socket, IntSupplier gsoLimit, IntConsumer gsoSent) {
        this.socket = socket;
        this.gsoLimit = gsoLimit;
        this.gsoSent = gsoSent;
    }

    /** Adds b[off, off+len) for to. False when there is no socket or its send queue is full (dropped). */
    boolean add(byte[] b, int off, int len, InetSocketAddress to) {
        if (count > 0 && !fits(len, to)) {
            close();
        }
        if (count == 0) {
            Channel ch = socket.get();
            if (ch == null || !ch.isWritable() && !awaitWritable(ch)) {
                return false;
            }
            channel = ch;
            this.to = to;
            segment = len;
            segmented = len <= gsoLimit.getAsInt();
            buf = ch.alloc().directBuffer(len);
        } else if (count == 1) {
            // A second datagram makes it a run: room for a whole GSO send now, not for every single datagram (an
            // ACK, a keepalive), whose 64 KB would count as its few bytes against the send queue's bound.
            ByteBuf run = channel.alloc().directBuffer(MAX_BYTES);
            run.writeBytes(buf);
            buf.release();
            buf = run;
        }
        buf.writeBytes(b, off, len);
        count++;
        tail = len < segment;
        if (!segmented) {
            close();
        }
        return true;
    }

    /**
     * Back-pressure, as a blocking socket gives the kernel's and wireguard-go's senders: a thread that is not the
     * socket's event loop (which must stay free to drain the queue) waits for room, {@link #WAIT_NANOS} at most, so
     * that a sender faster than the socket sees a slower link rather than loss. Measured on 2 cores with 4 TCP
     * streams: 555 datagrams refused in 5 s without the wait.
     */
    private static boolean awaitWritable(Channel ch) {
        if (ch.eventLoop().inEventLoop()) {
            return false;
        }
        // Part of what fills the queue may be this thread's own writes, waiting for its next flush.
        ch.flush();
        for (long waited = 0; waited < WAIT_NANOS; waited += WAIT_STEP_NANOS) {
            LockSupport.parkNanos(WAIT_STEP_NANOS);
            if (ch.isWritable()) {
                return true;
            }
        }
        return false;
    }

    private boolean fits(int len, InetSocketAddress to) {
        return !tail && len <= segment && count < MAX_SEGMENTS && buf.readableBytes() + len <= MAX_BYTES
                && (to == this.to || to.equals(this.to));
    }

    /** Hands the open run to the channel (it leaves on the next flush). */
    private void close() {
        ByteBuf b = buf;
        buf = null;
        if (count == 1) {
            channel.write(new DatagramPacket(b, to), channel.voidPromise());
        } else {
            gsoSent.accept(segment);
            channel.write(new SegmentedDatagramPacket(b, segment, to), channel.voidPromise());
        }
        count = 0;
        tail = false;
        to = null;
    }

    /** Queues the open run on the channel, so nothing added later by another thread overtakes it; no flush. */
    void handOff() {
        if (count > 0) {
            close();
        }
    }

    /** Sends everything added since the last flush. */
    void flush() {
        if (count > 0) {
            close();
        }
        Channel ch = channel;
        if (ch != null) {
            channel = null;
            ch.flush();
        }
    }
}
