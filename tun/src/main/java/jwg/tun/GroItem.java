package jwg.tun;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One pending item of a {@link Coalescer}: a packet, or a run of TCP segments or UDP datagrams of one flow being
 * merged into a super-packet. The same class also describes the packet being offered ({@link #classify}), so that
 * the matching rules compare like with like.
 *
 * <p>The rules for joining an item, after the kernel's GRO (net/ipv4/af_inet.c, net/ipv6/ip6_offload.c,
 * net/ipv4/tcp_offload.c, net/ipv4/udp_offload.c), each one stated where it is checked:
 * <ul>
 *   <li>same IP version, addresses, protocol and ports ({@link #sameFlow});
 *   <li>every IP and transport header field equal except lengths, IDs, checksums, sequence number and flags
 *       ({@link #sameHeaders}); this covers TTL/hop limit, TOS/traffic class, DF, the flow label, the ACK number,
 *       the window and the TCP option bytes;
 *   <li>no IP options, fragments or IPv6 extension headers, no padding after the packet, valid IPv4 header and
 *       transport checksums, some payload, plain ACK or ACK+PSH flags ({@link #mergeable});
 *   <li>the IPv4 ID one more than the previous unless DF is set ({@link #idFollows});
 *   <li>the TCP sequence number right after the item's last byte, a payload no larger than the first's, and the
 *       whole within 65535 bytes ({@link #accepts}); a shorter payload or PSH closes it;
 *   <li>for UDP: at most 64 datagrams, all with a checksum or all without one ({@link #accepts}).
 * </ul>
 *
 * <p>Not thread-safe; owned by one Coalescer.
 */
final class GroItem {
    /** Not an IP packet we can read the addresses of: never matched with anything. */
    static final int OPAQUE = 0;
    /** An IP packet without usable ports (ICMP, a fragment, an IPv6 extension header): ordered by host pair. */
    static final int HOSTS = 1;
    /** A TCP or UDP packet of a known flow that may not be merged: travels alone, in flow order. */
    static final int ALONE = 2;
    static final int TCP_RUN = 3;
    static final int UDP_RUN = 4;

    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int HEAD = 120;
    private static final int HDR = VirtioHeader.LENGTH;

    // What the (first) packet is.
    int kind;
    private int version;
    private int ipLen;
    private int protocol;
    private int l4Len;
    private int addrOff;
    private int addrLen;
    private int ports;
    private int hostHash;
    private int payload;
    private int flags;
    private int seq;
    private int id;
    private boolean df;
    private boolean noUdpChecksum;

    // The offered packet, while it is being classified and matched; never kept.
    private byte[] src;
    private int off;
    private int len;

    // The pending item.
    private ByteBuffer buf;
    private final byte[] head = new byte[HEAD];
    private int count;
    private int gsoSize;
    private int nextSeq;
    private boolean open;

    /** Reads what packet src[off, off+len) is; src is referenced until the next classify, not copied. */
    void classify(byte[] src, int off, int len, boolean udpEnabled) {
        this.src = src;
        this.off = off;
        this.len = len;
        kind = OPAQUE;
        if (!readIp()) {
            return;
        }
        kind = HOSTS;
        hostHash = hostHash();
        if (!readTransport()) {
            return;
        }
        kind = ALONE;
        if (mergeable(udpEnabled)) {
            kind = protocol == TCP ? TCP_RUN : UDP_RUN;
        }
    }

    /** A cheap hash of the two addresses, to skip most byte comparisons while looking for a flow. */
    private int hostHash() {
        int h = version;
        for (int i = 0; i < addrLen; i += 4) {
            h = h * 31 + Bytes.i32(src, off + addrOff + i);
        }
        return h;
    }

    private boolean readIp() {
        version = Bytes.u8(src, off) >>> 4;
        if (version == 6) {
            if (len < 40) {
                return false;
            }
            ipLen = 40;
            protocol = Bytes.u8(src, off + 6);
            addrOff = 8;
            addrLen = 32;
            return true;
        }
        if (version != 4 || len < 20) {
            return false;
        }
        ipLen = (Bytes.u8(src, off) & 0x0f) * 4;
        protocol = Bytes.u8(src, off + 9);
        addrOff = 12;
        addrLen = 8;
        id = Bytes.u16(src, off + 4);
        df = (Bytes.u8(src, off + 6) & 0x40) != 0;
        return ipLen >= 20 && ipLen <= len;
    }

    /** Finds the ports; false for other protocols, fragments (no ports beyond the first) and truncated headers. */
    private boolean readTransport() {
        if (version == 4 && (Bytes.u16(src, off + 6) & 0x3fff) != 0) {
            return false;
        }
        int room = len - ipLen;
        if (protocol == TCP && room >= 20) {
            l4Len = (Bytes.u8(src, off + ipLen + 12) >>> 4) * 4;
            if (l4Len < 20 || l4Len > room) {
                return false;
            }
            flags = Bytes.u8(src, off + ipLen + 13);
            seq = Bytes.i32(src, off + ipLen + 4);
        } else if (protocol == UDP && room >= 8) {
            l4Len = 8;
            noUdpChecksum = Bytes.u16(src, off + ipLen + 6) == 0;
        } else {
            return false;
        }
        ports = Bytes.i32(src, off + ipLen);
        payload = room - l4Len;
        return true;
    }

    /**
     * Whether the packet may start or join a run. Pure ACKs and empty datagrams gain nothing (the kernel flushes
     * them too). IPv4 options and IPv6 extension headers are not merged by the kernel either. The IP length must
     * cover the packet exactly, since a super-packet's length is recomputed from its bytes. Only ACK, or ACK+PSH
     * (which ends the run), may merge: SYN, FIN, RST and URG change connection state or carry meaning per segment,
     * and CWR and ECE mark congestion events that must reach the stack on the very segment (the kernel lets a CWR
     * segment head a run; we keep it alone). Finally the checksums must verify, because the merged packet is
     * handed over with a fresh partial checksum and the kernel would never check the originals.
     */
    private boolean mergeable(boolean udpEnabled) {
        if (payload == 0) {
            return false;
        }
        if (version == 4) {
            boolean headerOk = Checksum.fold(Checksum.add(0, src, off, 20)) == 0xffff;
            if (ipLen != 20 || Bytes.u16(src, off + 2) != len || !headerOk) {
                return false;
            }
        } else if (Bytes.u16(src, off + 4) + 40 != len) {
            return false;
        }
        if (protocol == TCP) {
            if (flags != ACK && flags != (ACK | PSH)) {
                return false;
            }
        } else if (!udpEnabled || Bytes.u16(src, off + ipLen + 4) != len - ipLen) {
            return false;
        }
        return transportChecksumOk();
    }

    /** TCP/UDP checksum over pseudo-header and segment; a zero UDP checksum over IPv4 means none was sent. */
    private boolean transportChecksumOk() {
        if (protocol == UDP && noUdpChecksum) {
            return version == 4;
        }
        long sum = Checksum.pseudoHeader(src, off + addrOff, addrLen, protocol, len - ipLen);
        return Checksum.fold(Checksum.add(sum, src, off + ipLen, len - ipLen)) == 0xffff;
    }

    boolean hasAddresses() {
        return kind != OPAQUE;
    }

    boolean hasPorts() {
        return kind >= ALONE;
    }

    /** Same IP version and the same source and destination addresses. */
    boolean sameHosts(GroItem p) {
        return kind != OPAQUE && version == p.version && hostHash == p.hostHash
                && Arrays.equals(head, addrOff, addrOff + addrLen, p.src, p.off + addrOff, p.off + addrOff + addrLen);
    }

    /** Same hosts, protocol and ports: the packet belongs to this item's flow. */
    boolean sameFlow(GroItem p) {
        return kind >= ALONE && protocol == p.protocol && ports == p.ports && sameHosts(p);
    }

    /** Whether p (of this item's flow) may be appended. */
    boolean accepts(GroItem p) {
        if (!open || kind != p.kind || l4Len != p.l4Len || p.payload > gsoSize) {
            return false;
        }
        if (len + p.payload > Coalescer.MAX_MERGED) {
            return false;
        }
        if (kind == TCP_RUN && p.seq != nextSeq) {
            return false; // a gap, a retransmission or a reordering: the stack must see it as it is
        }
        // Like udp_gro_receive_segment: at most 64 datagrams, and a datagram sent without a checksum does not
        // join one sent with a checksum, or the other way round.
        if (kind == UDP_RUN && (count >= Coalescer.MAX_UDP_SEGMENTS || noUdpChecksum != p.noUdpChecksum)) {
            return false;
        }
        return idFollows(p) && sameHeaders(p);
    }

    /**
     * The kernel re-creates IPv4 IDs as first + i when it segments; unless DF makes the ID meaningless (an atomic
     * datagram, RFC 6864) it therefore only merges IDs that already count up by one. DF itself is compared in
     * {@link #sameHeaders}.
     */
    private boolean idFollows(GroItem p) {
        return version == 6 || df || p.id == ((id + count) & 0xffff);
    }

    /** Every header byte equal except those that legitimately differ per segment. */
    private boolean sameHeaders(GroItem p) {
        int at = p.off;
        boolean ip = version == 4
                // version/IHL, TOS; then flags/fragment offset (so DF), TTL, protocol; addresses
                ? same(p, at, 0, 2) && same(p, at, 6, 10) && same(p, at, 12, 20)
                // version, traffic class, flow label; then next header, hop limit, addresses
                : same(p, at, 0, 4) && same(p, at, 6, 40);
        if (!ip || kind != TCP_RUN) {
            return ip;
        }
        int t = ipLen;
        // ACK number and data offset; window; options. Sequence, flags, checksum and urgent pointer are skipped.
        // The window must match because a merged packet carries only one; the kernel agrees: tcp_gro_receive
        // compares the whole 32-bit word at offset 12 (data offset, flags and window) except CWR, FIN and PSH.
        return same(p, at, t + 8, t + 13) && same(p, at, t + 14, t + 16) && same(p, at, t + 20, t + l4Len);
    }

    private boolean same(GroItem p, int at, int from, int to) {
        return Arrays.equals(head, from, to, p.src, at + from, at + to);
    }

    /** Makes this slot a new item holding just p. */
    void start(GroItem p) {
        if (buf == null) {
            buf = ByteBuffer.allocateDirect(HDR + Coalescer.MAX_PACKET);
        }
        buf.clear(); // absolute puts are bounded by the limit, which the last write left short
        kind = p.kind;
        version = p.version;
        ipLen = p.ipLen;
        protocol = p.protocol;
        l4Len = p.l4Len;
        addrOff = p.addrOff;
        addrLen = p.addrLen;
        ports = p.ports;
        hostHash = p.hostHash;
        id = p.id;
        df = p.df;
        noUdpChecksum = p.noUdpChecksum;
        len = p.len;
        buf.put(HDR, p.src, p.off, p.len);
        System.arraycopy(p.src, p.off, head, 0, Math.min(p.len, HEAD));
        src = null;
        count = 1;
        gsoSize = p.payload;
        nextSeq = p.seq + p.payload;
        // A run starting with PSH is already complete.
        open = kind == UDP_RUN || (kind == TCP_RUN && p.flags == ACK);
    }

    /** Appends p's payload; PSH, or a payload shorter than the first's, ends the run. */
    void append(GroItem p) {
        buf.put(HDR + len, p.src, p.off + p.ipLen + p.l4Len, p.payload);
        len += p.payload;
        count++;
        nextSeq += p.payload;
        if (kind == TCP_RUN && (p.flags & PSH) != 0) {
            int f = HDR + ipLen + 13;
            buf.put(f, (byte) (buf.get(f) | PSH));
            open = false;
        }
        if (p.payload < gsoSize) {
            open = false;
        }
    }

    void close() {
        open = false;
    }

    /** The virtio header and packet, ready to write: position 0, limit at the end. */
    ByteBuffer finish() {
        if (count == 1) {
            VirtioHeader.putNone(buf, 0);
        } else {
            fixSuperPacket();
        }
        return buf.clear().limit(HDR + len);
    }

    /**
     * Turns the merged bytes into what the kernel expects of a GSO packet written to it: lengths for the whole,
     * a valid IPv4 header checksum, and in the transport checksum field the folded pseudo-header sum over the whole
     * length, not complemented, which the kernel completes per segment (CHECKSUM_PARTIAL from csum_start).
     */
    private void fixSuperPacket() {
        int l4Total = len - ipLen;
        if (version == 4) {
            Bytes.put16(buf, HDR + 2, len);
            Bytes.put16(buf, HDR + 10, 0);
            Bytes.put16(buf, HDR + 10, Checksum.finish(Checksum.add(0, buf, HDR, ipLen)));
        } else {
            Bytes.put16(buf, HDR + 4, l4Total);
        }
        boolean tcp = kind == TCP_RUN;
        if (!tcp) {
            Bytes.put16(buf, HDR + ipLen + 4, l4Total);
        }
        int field = tcp ? 16 : 6;
        long pseudo = Checksum.pseudoHeader(buf, HDR + addrOff, addrLen, protocol, l4Total);
        Bytes.put16(buf, HDR + ipLen + field, Checksum.fold(pseudo));
        int type = !tcp ? VirtioHeader.GSO_UDP_L4 : version == 4 ? VirtioHeader.GSO_TCPV4 : VirtioHeader.GSO_TCPV6;
        VirtioHeader.put(buf, 0, VirtioHeader.F_NEEDS_CSUM, type, ipLen + l4Len, gsoSize, ipLen, field);
    }
}
