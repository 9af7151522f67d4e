package jwg.tun;

import java.nio.ByteBuffer;

/**
 * The 10-byte {@code struct virtio_net_hdr} that a TUN device opened with IFF_VNET_HDR puts in front of every packet
 * it reads and expects in front of every packet written to it (include/linux/virtio_net.h, without the
 * num_buffers field of the mergeable-buffers variant).
 *
 * <p>Layout: u8 flags, u8 gso_type, u16 hdr_len, u16 gso_size, u16 csum_start, u16 csum_offset. The 16-bit fields
 * are in the device's byte order, which is the host's unless TUNSETVNETLE/BE says otherwise; this class reads and
 * writes them little-endian, which is the host order on x86-64 and arm64 (a big-endian host would have to set
 * TUNSETVNETLE). csum_start counts from the start of the IP packet, since a TUN device has no link-layer header.
 *
 * <p>Stateless: safe from any thread.
 */
public final class VirtioHeader {
    /** Bytes in front of each packet. */
    public static final int LENGTH = 10;

    /** flags: the packet carries a partial checksum to be completed over [csum_start, end). */
    public static final int F_NEEDS_CSUM = 1;
    /** flags: the checksum was already verified (only ever set on packets the kernel hands out). */
    public static final int F_DATA_VALID = 2;

    /** gso_type: a single packet, not to be segmented. */
    public static final int GSO_NONE = 0;
    /** gso_type: an IPv4 TCP super-packet to cut into gso_size segments (TSO). */
    public static final int GSO_TCPV4 = 1;
    /** gso_type: IP-fragmentation offload for UDP (UFO); the kernel no longer produces it and we never accept it. */
    public static final int GSO_UDP = 3;
    /** gso_type: an IPv6 TCP super-packet (TSO6). */
    public static final int GSO_TCPV6 = 4;
    /** gso_type: a UDP super-packet to cut into gso_size datagrams (USO), IPv4 or IPv6 per the IP header. */
    public static final int GSO_UDP_L4 = 5;
    /** gso_type bit: the TCP super-packet has CWR set, which must appear on the first segment only. */
    public static final int GSO_ECN = 0x80;

    static final int FLAGS = 0;
    static final int GSO_TYPE = 1;
    static final int HDR_LEN = 2;
    static final int GSO_SIZE = 4;
    static final int CSUM_START = 6;
    static final int CSUM_OFFSET = 8;

    private VirtioHeader() {}

    public static int flags(ByteBuffer b, int at) {
        return b.get(at + FLAGS) & 0xff;
    }

    public static int gsoType(ByteBuffer b, int at) {
        return b.get(at + GSO_TYPE) & 0xff;
    }

    public static int hdrLen(ByteBuffer b, int at) {
        return u16(b, at + HDR_LEN);
    }

    public static int gsoSize(ByteBuffer b, int at) {
        return u16(b, at + GSO_SIZE);
    }

    public static int csumStart(ByteBuffer b, int at) {
        return u16(b, at + CSUM_START);
    }

    public static int csumOffset(ByteBuffer b, int at) {
        return u16(b, at + CSUM_OFFSET);
    }

    public static int flags(byte[] b, int at) {
        return b[at + FLAGS] & 0xff;
    }

    public static int gsoType(byte[] b, int at) {
        return b[at + GSO_TYPE] & 0xff;
    }

    public static int hdrLen(byte[] b, int at) {
        return u16(b, at + HDR_LEN);
    }

    public static int gsoSize(byte[] b, int at) {
        return u16(b, at + GSO_SIZE);
    }

    public static int csumStart(byte[] b, int at) {
        return u16(b, at + CSUM_START);
    }

    public static int csumOffset(byte[] b, int at) {
        return u16(b, at + CSUM_OFFSET);
    }

    /** Writes a whole header at b[at, at+10). */
    public static void put(ByteBuffer b, int at, int flags, int gsoType, int hdrLen, int gsoSize, int csumStart,
            int csumOffset) {
        b.put(at + FLAGS, (byte) flags);
        b.put(at + GSO_TYPE, (byte) gsoType);
        put16(b, at + HDR_LEN, hdrLen);
        put16(b, at + GSO_SIZE, gsoSize);
        put16(b, at + CSUM_START, csumStart);
        put16(b, at + CSUM_OFFSET, csumOffset);
    }

    /** Writes a whole header at b[at, at+10). */
    public static void put(byte[] b, int at, int flags, int gsoType, int hdrLen, int gsoSize, int csumStart,
            int csumOffset) {
        b[at + FLAGS] = (byte) flags;
        b[at + GSO_TYPE] = (byte) gsoType;
        put16(b, at + HDR_LEN, hdrLen);
        put16(b, at + GSO_SIZE, gsoSize);
        put16(b, at + CSUM_START, csumStart);
        put16(b, at + CSUM_OFFSET, csumOffset);
    }

    /** Writes the all-zero header: one complete packet, no checksum work asked of the kernel. */
    public static void putNone(ByteBuffer b, int at) {
        put(b, at, 0, GSO_NONE, 0, 0, 0, 0);
    }

    // Byte by byte so that the buffer's own order setting cannot change the result.
    private static int u16(ByteBuffer b, int at) {
        return (b.get(at) & 0xff) | (b.get(at + 1) & 0xff) << 8;
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    private static void put16(ByteBuffer b, int at, int v) {
        b.put(at, (byte) v);
        b.put(at + 1, (byte) (v >>> 8));
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }
}
