package jwg.tunnel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jwg.tun.Tun;

/**
 * Datagrams taken from the UDP socket with one recvmmsg(2), up to {@link #SLOTS} messages of up to 64 KB, into
 * native memory this batch owns; with UDP_GRO on the socket a message is a run of one sender's datagrams of one size
 * (the last may be shorter), which {@link #segment} tells. The datagrams are read where they landed (one ByteBuf
 * over the whole area, {@link #data}); nothing is allocated per datagram, and a sender's address is made into an
 * object only when asked for, once per source ({@link SourceCache}).
 *
 * <p>Why below Netty: its datagram channel gives each datagram a buffer slice, a DatagramPacket and an
 * InetSocketAddress. Measured by JFR at 50 Mbit/s (bench/profile --rate 50M): 6.3 MB allocated by the receiver's
 * event loop in 20 s, young collections every ~11 s per daemon, the first of them up to 10.5 ms on a loaded 2-core
 * machine.
 *
 * <p>Memory: malloc'd, not zeroed, so pages are backed only once a datagram of that size has landed there (an idle
 * daemon holds none of the megabyte).
 *
 * <p>Thread-safety: none; the UDP event loop's alone.
 */
final class ReceiveBatch {
    /** Messages per recvmmsg. */
    static final int SLOTS = 16;
    /** Bytes per message: any datagram (65,535 at most), or one GRO run (the kernel stops a run at 64 KB). */
    static final int SLOT_BYTES = 65_536;

    /** Room for UDP_GRO's control message (CMSG_SPACE(sizeof(int)) = 24) and one more of the same size. */
    private static final int CONTROL_BYTES = 48;
    private static final int MSG_TRUNC = 0x20;
    private static final int MSG_DONTWAIT = 0x40;
    static final int EAGAIN = 11;
    private static final int EINTR = 4;

    // Layout: messages, their iovecs, addresses, control buffers, then the data.
    private static final int IOVS = SLOTS * Mmsghdr.SIZE;
    private static final int ADDRS = IOVS + SLOTS * Mmsghdr.IOVEC;
    private static final int CONTROLS = ADDRS + SLOTS * Mmsghdr.SOCKADDR;
    private static final int DATA = (CONTROLS + SLOTS * CONTROL_BYTES + 63) & ~63;

    private final Memory block = new Memory(DATA + (long) SLOTS * SLOT_BYTES);
    private final ByteBuffer mem = block.getByteBuffer(0, block.size()).order(ByteOrder.nativeOrder());
    private final long base = Pointer.nativeValue(block);
    private final ByteBuf data = Unpooled.wrappedBuffer(block.getByteBuffer(DATA, (long) SLOTS * SLOT_BYTES));
    private final SourceCache sources = new SourceCache();
    /** The message {@link #source} answers for. */
    private int selected;

    ReceiveBatch() {
        for (int i = 0; i < SLOTS; i++) {
            int m = i * Mmsghdr.SIZE;
            mem.putLong(m + Mmsghdr.NAME, base + ADDRS + (long) i * Mmsghdr.SOCKADDR);
            mem.putLong(m + Mmsghdr.IOV, base + IOVS + (long) i * Mmsghdr.IOVEC);
            mem.putLong(m + Mmsghdr.IOVLEN, 1);
            mem.putLong(m + Mmsghdr.CONTROL, base + CONTROLS + (long) i * CONTROL_BYTES);
            mem.putLong(IOVS + i * Mmsghdr.IOVEC, base + DATA + (long) i * SLOT_BYTES);
            mem.putLong(IOVS + i * Mmsghdr.IOVEC + 8, SLOT_BYTES);
        }
    }

    /**
     * Takes what the socket holds, without waiting: the number of messages (0 when none), or -errno for an error
     * other than EAGAIN and EINTR.
     */
    int read(int fd) {
        for (int i = 0; i < SLOTS; i++) {
            int m = i * Mmsghdr.SIZE;
            mem.putInt(m + Mmsghdr.NAMELEN, Mmsghdr.SOCKADDR);
            mem.putLong(m + Mmsghdr.CONTROLLEN, CONTROL_BYTES);
        }
        while (true) {
            int n = Sys.recvmmsg(fd, base, SLOTS, MSG_DONTWAIT, 0);
            if (n >= 0) {
                return n;
            }
            int errno = Native.getLastError();
            if (errno == EAGAIN) {
                return 0;
            }
            if (errno != EINTR) {
                return -errno;
            }
        }
    }

    /** The received datagrams, message i's at {@link #offset}(i). */
    ByteBuf data() {
        return data;
    }

    int offset(int i) {
        return i * SLOT_BYTES;
    }

    /** Message i's bytes: one datagram, or a GRO run of them. */
    int length(int i) {
        return mem.getInt(i * Mmsghdr.SIZE + Mmsghdr.LEN);
    }

    /** Message i was cut short: a datagram bigger than a slot, which UDP cannot carry; drop it. */
    boolean truncated(int i) {
        return (mem.getInt(i * Mmsghdr.SIZE + Mmsghdr.FLAGS) & MSG_TRUNC) != 0;
    }

    /** The size of message i's datagrams: the GRO segment size, or its whole length when it is one datagram. */
    int segment(int i) {
        int m = i * Mmsghdr.SIZE;
        int at = CONTROLS + i * CONTROL_BYTES;
        int end = at + (int) Math.min(mem.getLong(m + Mmsghdr.CONTROLLEN), CONTROL_BYTES);
        while (at + 16 <= end) {
            long len = mem.getLong(at);
            if (len < 16 || at + len > end) {
                break;
            }
            if (mem.getInt(at + 8) == UdpSocket.SOL_UDP && mem.getInt(at + 12) == UdpSocket.UDP_GRO && len >= 20) {
                int size = mem.getInt(at + 16);
                return size > 0 ? Math.min(size, length(i)) : length(i);
            }
            at += (int) ((len + 7) & ~7L);
        }
        return length(i);
    }

    /** Makes message i the one {@link #source} answers for. */
    void select(int i) {
        selected = i;
    }

    /** The sender of the selected message (null for an address family UDP does not use). */
    InetSocketAddress source() {
        return sources.get(mem, ADDRS + selected * Mmsghdr.SOCKADDR);
    }

    /** The address objects made so far (tests). */
    long sourcesMade() {
        return sources.misses;
    }

    /** recvmmsg, bound with JNA direct mapping (no copy, no allocation per call). */
    private static final class Sys {
        static {
            Native.register(Sys.class, Tun.C_LIBRARY);
        }

        static native int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);
    }
}
