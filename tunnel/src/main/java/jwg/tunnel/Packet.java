package jwg.tunnel;

import java.net.InetSocketAddress;
import jwg.noise.Keypair;
import jwg.noise.Message;

/**
 * One packet on its way through the pipeline, in either direction, in a buffer that is reused from packet to packet
 * (see {@link PacketPool}).
 *
 * <p>Outbound the plaintext IP packet sits at {@code buf[16, 16+length)}, leaving room for the transport header in
 * front, and is sealed in place; inbound {@code buf[0, length)} is the datagram as received, opened in place. The
 * fields are written by the thread that fills the packet, then by the worker that seals or opens it; {@link #done}
 * is the volatile hand-over to whoever transmits or delivers it in order.
 */
final class Packet {
    /** Room for a 1500-byte MTU and WireGuard's overhead; bigger packets grow their buffer once. */
    static final int INITIAL_CAPACITY = 2048;
    /** Header, padding up to 15 bytes, and tag: what sealing adds to a plaintext at most. */
    static final int OVERHEAD = Message.TRANSPORT_HEADER_LEN + Message.PADDING_MULTIPLE + 16;

    byte[] buf = new byte[INITIAL_CAPACITY];
    /** Which way it goes: sealed and sent, or opened and delivered. */
    boolean outbound;
    /** Outbound: the plaintext's length. Inbound: the datagram's. */
    int length;
    Peer peer;
    Keypair keypair;
    /** Outbound: the counter assigned in order; inbound: read from the header. */
    long counter;
    /** Outbound: where it goes; inbound: where it came from. */
    InetSocketAddress address;
    /** After sealing: the message length. After opening: the plaintext length. Negative: a Drop code. */
    int result;
    private volatile boolean done;
    /** How much of buf its pool counts as grown (see {@link PacketPool#fit}). */
    int largeBytes;

    /** Makes sure the buffer holds size bytes; the old contents are not kept. */
    void ensureCapacity(int size) {
        if (buf.length < size) {
            buf = new byte[size];
        }
    }

    void markDone() {
        done = true;
    }

    boolean isDone() {
        return done;
    }

    /** Forgets everything but the buffer, ready for the pool. */
    void reset() {
        peer = null;
        keypair = null;
        address = null;
        length = 0;
        result = 0;
        done = false;
    }
}
