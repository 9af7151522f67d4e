package jwg.tun;

import java.nio.ByteBuffer;

/**
 * Outbound GSO in software: turns one read from a TUN device opened with IFF_VNET_HDR (a virtio_net_hdr followed by
 * a packet of up to 64 KiB) into the wire-sized IP packets the kernel asked for, each complete with its checksums.
 *
 * <p>What the kernel would do in hardware's place (Documentation/networking/segmentation-offloads.rst): for TCP
 * (TSO) every segment gets a copy of the IP and TCP headers, the IPv4 ID counts up from the first, the sequence
 * number advances by the bytes before it, FIN and PSH stay only on the last segment and CWR only on the first; for
 * UDP (USO, GSO_UDP_L4) every datagram gets a copy of the headers with its own UDP length. Lengths and checksums are
 * rewritten for each. A single packet that asks for checksum offload (NEEDS_CSUM) has its partial checksum completed.
 *
 * <p>The header lengths are taken from the packet itself; the virtio hdr_len is only the kernel's hint of how much
 * it put in the linear part of its buffer, so it is ignored. Input is never trusted: anything inconsistent makes
 * {@link #reset} return false, and no input makes any method throw.
 *
 * <p>Use: {@code if (s.reset(buf, 0, n)) while (s.hasNext()) send(dst, s.next(dst, 0));}. Nothing is allocated per
 * call. Thread-safety: none; one instance per reader thread. The source buffer must not change until the last
 * {@link #next}.
 */
public final class Segmenter {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int IPV4_MIN = 20;
    private static final int IPV6_HEADER = 40;
    private static final int TCP_MIN = 20;
    private static final int UDP_HEADER = 8;
    private static final int FIN = 0x01;
    private static final int PSH = 0x08;
    private static final int CWR = 0x80;

    private enum Mode { SINGLE, TCP, UDP }

    private ByteBuffer src;
    private int pkt;
    private int pktLen;
    private Mode mode;
    private boolean needsCsum;
    private int csumStart;
    private int csumOffset;
    private boolean v6;
    private int ipLen;
    private int headers;
    private int payload;
    private int gsoSize;
    private int firstId;
    private int firstSeq;
    private int count;
    private int index;

    /**
     * Parses the virtio header at src[off, off+10) and the packet at src[off+10, off+len), by absolute index (the
     * buffer's position and limit are not changed, but the range must lie below its limit). Returns false, with
     * nothing to emit, if the input is malformed or asks for something unsupported.
     */
    public boolean reset(ByteBuffer src, int off, int len) {
        this.src = null;
        count = 0;
        index = 0;
        if (src == null || off < 0 || len <= VirtioHeader.LENGTH || off > src.limit() - len) {
            return false;
        }
        this.src = src;
        pkt = off + VirtioHeader.LENGTH;
        pktLen = len - VirtioHeader.LENGTH;
        if (!parse(VirtioHeader.flags(src, off), VirtioHeader.gsoType(src, off), VirtioHeader.gsoSize(src, off),
                VirtioHeader.csumStart(src, off), VirtioHeader.csumOffset(src, off))) {
            this.src = null;
            count = 0;
            return false;
        }
        return true;
    }

    /** Whether {@link #next} has another packet to give. */
    public boolean hasNext() {
        return index < count;
    }

    /** How many packets the last successful {@link #reset} yields in all (0 after a failed one). */
    public int count() {
        return count;
    }

    /** The length of the packet the next {@link #next} writes, or -1 if there is none. */
    public int nextLength() {
        if (index >= count) {
            return -1;
        }
        return mode == Mode.SINGLE ? pktLen : headers + segmentPayload(index);
    }

    /**
     * Writes the next IP packet into dst from dstOff and returns its length. Returns -1 if there is none left, or if
     * it does not fit in dst (then it is skipped; see {@link #nextLength}).
     */
    public int next(byte[] dst, int dstOff) {
        int len = nextLength();
        if (len < 0) {
            return -1;
        }
        int i = index++;
        if (dstOff < 0 || dstOff > dst.length - len) {
            return -1;
        }
        switch (mode) {
            case SINGLE -> single(dst, dstOff);
            case TCP -> tcpSegment(dst, dstOff, i);
            case UDP -> udpSegment(dst, dstOff, i);
        }
        return len;
    }

    private boolean parse(int flags, int gsoType, int gso, int start, int offset) {
        needsCsum = (flags & VirtioHeader.F_NEEDS_CSUM) != 0;
        csumStart = start;
        csumOffset = offset;
        // The field being completed must lie wholly inside the packet, after csum_start.
        if (needsCsum && start + offset + 2 > pktLen) {
            return false;
        }
        gsoSize = gso;
        // The kernel rejects GSO_NONE with the ECN bit as well, so the bit is only stripped off real GSO types.
        if (gsoType == VirtioHeader.GSO_NONE) {
            return parseSingle();
        }
        return switch (gsoType & ~VirtioHeader.GSO_ECN) {
            case VirtioHeader.GSO_TCPV4 -> gso > 0 && parseIp(false, TCP) && parseTcp();
            case VirtioHeader.GSO_TCPV6 -> gso > 0 && parseIp(true, TCP) && parseTcp();
            case VirtioHeader.GSO_UDP_L4 -> gso > 0 && parseIp(isV6(), UDP) && parseUdp();
            default -> false;
        };
    }

    private boolean parseSingle() {
        mode = Mode.SINGLE;
        count = 1;
        return true;
    }

    private boolean isV6() {
        return (Bytes.u8(src, pkt) >>> 4) == 6;
    }

    /** Checks the IP header of a super-packet: right version, the whole buffer, no fragment, no extension header. */
    private boolean parseIp(boolean six, int protocol) {
        v6 = six;
        if (six) {
            ipLen = IPV6_HEADER;
            // Extension headers (including a jumbo payload option) are not something we segment.
            return pktLen >= IPV6_HEADER && Bytes.u8(src, pkt) >>> 4 == 6
                    && Bytes.u16(src, pkt + 4) + IPV6_HEADER == pktLen && Bytes.u8(src, pkt + 6) == protocol;
        }
        if (pktLen < IPV4_MIN || Bytes.u8(src, pkt) >>> 4 != 4) {
            return false;
        }
        ipLen = (Bytes.u8(src, pkt) & 0x0f) * 4;
        // Options are fine (they are copied into every segment); MF or a fragment offset is not.
        return ipLen >= IPV4_MIN && ipLen <= pktLen && Bytes.u16(src, pkt + 2) == pktLen
                && (Bytes.u16(src, pkt + 6) & 0x3fff) == 0 && Bytes.u8(src, pkt + 9) == protocol;
    }

    private boolean parseTcp() {
        if (pktLen - ipLen < TCP_MIN) {
            return false;
        }
        int tcpLen = (Bytes.u8(src, pkt + ipLen + 12) >>> 4) * 4;
        if (tcpLen < TCP_MIN || tcpLen > pktLen - ipLen) {
            return false;
        }
        mode = Mode.TCP;
        firstSeq = Bytes.i32(src, pkt + ipLen + 4);
        return split(ipLen + tcpLen);
    }

    private boolean parseUdp() {
        if (pktLen - ipLen < UDP_HEADER) {
            return false;
        }
        mode = Mode.UDP;
        return split(ipLen + UDP_HEADER);
    }

    /** Counts the segments; a GSO packet without payload is not something the kernel would hand out. */
    private boolean split(int headerLen) {
        headers = headerLen;
        payload = pktLen - headerLen;
        if (payload <= 0) {
            return false;
        }
        firstId = v6 ? 0 : Bytes.u16(src, pkt + 4);
        count = (payload + gsoSize - 1) / gsoSize;
        return true;
    }

    private int segmentPayload(int i) {
        return Math.min(gsoSize, payload - i * gsoSize);
    }

    private void single(byte[] dst, int at) {
        src.get(pkt, dst, at, pktLen);
        if (needsCsum) {
            // The field holds the pseudo-header sum; summing the range with it in place and complementing gives the
            // full checksum. Like the kernel's own completion, a result of 0 is sent as 0xffff (its other spelling),
            // which UDP requires and TCP accepts.
            int field = at + csumStart + csumOffset;
            int sum = Checksum.finish(Checksum.add(0, dst, at + csumStart, pktLen - csumStart));
            Bytes.put16(dst, field, sum == 0 ? 0xffff : sum);
        }
    }

    private int copySegment(byte[] dst, int at, int i) {
        int seg = segmentPayload(i);
        src.get(pkt, dst, at, headers);
        src.get(pkt + headers + i * gsoSize, dst, at + headers, seg);
        int len = headers + seg;
        fixIp(dst, at, len, i);
        return len;
    }

    private void fixIp(byte[] dst, int at, int len, int i) {
        if (v6) {
            Bytes.put16(dst, at + 4, len - IPV6_HEADER);
            return;
        }
        Bytes.put16(dst, at + 2, len);
        Bytes.put16(dst, at + 4, firstId + i);
        Bytes.put16(dst, at + 10, 0);
        Bytes.put16(dst, at + 10, Checksum.of(dst, at, ipLen));
    }

    private void tcpSegment(byte[] dst, int at, int i) {
        int len = copySegment(dst, at, i);
        int tcp = at + ipLen;
        Bytes.put32(dst, tcp + 4, firstSeq + i * gsoSize);
        int flags = Bytes.u8(dst, tcp + 13);
        if (i != count - 1) {
            flags &= ~(FIN | PSH);
        }
        if (i != 0) {
            flags &= ~CWR;
        }
        dst[tcp + 13] = (byte) flags;
        Bytes.put16(dst, tcp + 16, transportChecksum(dst, at, TCP, len));
    }

    private void udpSegment(byte[] dst, int at, int i) {
        int len = copySegment(dst, at, i);
        int udp = at + ipLen;
        Bytes.put16(dst, udp + 4, len - ipLen);
        int sum = transportChecksum(dst, at, UDP, len);
        // In UDP a zero checksum means "none", so a computed zero is sent as 0xffff.
        Bytes.put16(dst, udp + 6, sum == 0 ? 0xffff : sum);
    }

    /** The full TCP/UDP checksum of the packet at dst[at, at+len), computed with its checksum field zeroed. */
    private int transportChecksum(byte[] dst, int at, int protocol, int len) {
        int l4 = at + ipLen;
        int field = l4 + (protocol == TCP ? 16 : 6);
        Bytes.put16(dst, field, 0);
        long sum = v6 ? Checksum.pseudoHeader(dst, at + 8, 32, protocol, len - ipLen)
                : Checksum.pseudoHeader(dst, at + 12, 8, protocol, len - ipLen);
        return Checksum.finish(Checksum.add(sum, dst, l4, len - ipLen));
    }
}
