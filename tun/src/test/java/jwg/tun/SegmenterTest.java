package jwg.tun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SegmenterTest {
    private static final int NEEDS_CSUM = VirtioHeader.F_NEEDS_CSUM;

    private final Segmenter segmenter = new Segmenter();

    /** A super-packet as the kernel hands it out: partial checksum, NEEDS_CSUM, csum_start at the transport header. */
    static ByteBuffer superPacket(Packet p, int gsoType, int gsoSize) {
        byte[] bytes = p.partial(true).build();
        int field = p.proto == 6 ? 16 : 6;
        return Packet.virtio(NEEDS_CSUM, gsoType, p.headerLength(), gsoSize, p.ipHeaderLength(), field, bytes);
    }

    List<byte[]> segment(ByteBuffer b) {
        assertTrue(segmenter.reset(b, 0, b.limit()));
        List<byte[]> out = new ArrayList<>();
        byte[] dst = new byte[70000];
        while (segmenter.hasNext()) {
            int expected = segmenter.nextLength();
            int n = segmenter.next(dst, 3);
            assertEquals(expected, n);
            out.add(Arrays.copyOfRange(dst, 3, 3 + n));
        }
        assertEquals(out.size(), segmenter.count());
        assertEquals(-1, segmenter.next(dst, 0));
        return out;
    }

    @Test
    void tcp4WithOptionsAndUnevenTail() {
        Packet p = Packet.tcp4().ipOptions(new byte[] {1, 1, 1, 0}).payload(3 * 1000 + 17, 1)
                .flags(Packet.ACK | Packet.PSH | Packet.FIN | Packet.CWR).seq(0xfffffc00).id(0xfffe);
        byte[] payload = p.payload;
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_TCPV4 | VirtioHeader.GSO_ECN, 1000));
        assertEquals(4, segs.size());
        int hdr = p.headerLength();
        assertEquals(24 + 32, hdr);
        byte[] reference = p.partial(false).build();
        for (int i = 0; i < 4; i++) {
            byte[] s = segs.get(i);
            int seg = i < 3 ? 1000 : 17;
            assertEquals(hdr + seg, s.length);
            assertEquals(hdr + seg, Packet.u16(s, 2), "IPv4 total length");
            assertEquals((0xfffe + i) & 0xffff, Packet.u16(s, 4), "IPv4 ID");
            assertTrue(Naive.ipv4HeaderOk(s, 0), "IPv4 header checksum");
            assertArrayEquals(Arrays.copyOfRange(reference, 20, 24), Arrays.copyOfRange(s, 20, 24), "IP options");
            assertEquals(0xfffffc00 + i * 1000, Packet.i32(s, 24 + 4), "sequence");
            int flags = s[24 + 13] & 0xff;
            int expected = Packet.ACK | (i == 0 ? Packet.CWR : 0) | (i == 3 ? Packet.PSH | Packet.FIN : 0);
            assertEquals(expected, flags, "flags of segment " + i);
            assertArrayEquals(Arrays.copyOfRange(reference, 24 + 20, hdr), Arrays.copyOfRange(s, 24 + 20, hdr));
            assertArrayEquals(Arrays.copyOfRange(payload, i * 1000, i * 1000 + seg), Arrays.copyOfRange(s, hdr,
                    s.length));
            assertTrue(Naive.transportOk(s, 0, s.length), "TCP checksum of segment " + i);
        }
    }

    @Test
    void tcp6WithTimestampsAndUnevenTail() {
        Packet p = Packet.tcp6().payload(3 * 1000 + 17, 2).flags(Packet.ACK | Packet.PSH).seq(5);
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_TCPV6, 1000));
        assertEquals(4, segs.size());
        int hdr = 40 + 32;
        for (int i = 0; i < 4; i++) {
            byte[] s = segs.get(i);
            int seg = i < 3 ? 1000 : 17;
            assertEquals(hdr + seg, s.length);
            assertEquals(32 + seg, Packet.u16(s, 4), "IPv6 payload length");
            assertEquals(5 + i * 1000, Packet.i32(s, 40 + 4));
            assertEquals(Packet.ACK | (i == 3 ? Packet.PSH : 0), s[40 + 13] & 0xff);
            assertArrayEquals(Arrays.copyOfRange(p.payload, i * 1000, i * 1000 + seg),
                    Arrays.copyOfRange(s, hdr, s.length));
            assertTrue(Naive.transportOk(s, 0, s.length));
        }
    }

    @Test
    void payloadNoLargerThanGsoSizeIsOneSegment() {
        Packet p = Packet.tcp4().payload(1000, 3).flags(Packet.ACK | Packet.PSH);
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_TCPV4, 1000));
        assertEquals(1, segs.size());
        assertArrayEquals(p.partial(false).build(), segs.get(0));
    }

    @Test
    void udp4SplitsIntoDatagramsWithUnevenTail() {
        Packet p = Packet.udp4().payload(2 * 1200 + 1, 4).id(7);
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_UDP_L4, 1200));
        assertEquals(3, segs.size());
        for (int i = 0; i < 3; i++) {
            byte[] s = segs.get(i);
            int seg = i < 2 ? 1200 : 1;
            assertEquals(28 + seg, s.length);
            assertEquals(28 + seg, Packet.u16(s, 2));
            assertEquals(7 + i, Packet.u16(s, 4));
            assertTrue(Naive.ipv4HeaderOk(s, 0));
            assertEquals(8 + seg, Packet.u16(s, 20 + 4), "UDP length");
            assertTrue(Packet.u16(s, 26) != 0, "UDP checksum present");
            assertTrue(Naive.transportOk(s, 0, s.length));
            assertArrayEquals(Arrays.copyOfRange(p.payload, i * 1200, i * 1200 + seg),
                    Arrays.copyOfRange(s, 28, s.length));
        }
    }

    @Test
    void udp6SplitsIntoDatagrams() {
        Packet p = Packet.udp6().payload(5 * 1000 + 999, 5);
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_UDP_L4, 1000));
        assertEquals(6, segs.size());
        for (int i = 0; i < 6; i++) {
            byte[] s = segs.get(i);
            int seg = i < 5 ? 1000 : 999;
            assertEquals(8 + seg, Packet.u16(s, 4));
            assertEquals(8 + seg, Packet.u16(s, 44));
            assertTrue(Naive.transportOk(s, 0, s.length));
        }
    }

    @Test
    void singlePacketPassesThroughUntouched() {
        byte[] bytes = Packet.tcp4().payload(100, 6).build();
        List<byte[]> segs = segment(Packet.virtio(0, 0, 0, 0, 0, 0, bytes));
        assertEquals(1, segs.size());
        assertArrayEquals(bytes, segs.get(0));
        // Anything at all goes through when no offload is asked for: it is the kernel's own packet.
        byte[] odd = {0x45, 1, 2};
        assertArrayEquals(odd, segment(Packet.virtio(0, 0, 0, 0, 0, 0, odd)).get(0));
    }

    @Test
    void singlePacketChecksumIsCompleted() {
        for (Packet p : new Packet[] {Packet.tcp4().payload(333, 7), Packet.tcp6().payload(1, 8),
            Packet.udp4().payload(0, 9), Packet.udp6().payload(1001, 10)}) {
            byte[] full = p.partial(false).build();
            byte[] partial = p.partial(true).build();
            ByteBuffer b = Packet.virtio(NEEDS_CSUM | VirtioHeader.F_DATA_VALID, 0, 0, 0, p.ipHeaderLength(),
                    p.proto == 6 ? 16 : 6, partial);
            byte[] out = segment(b).get(0);
            assertTrue(Naive.transportOk(out, 0, out.length));
            assertArrayEquals(full, out);
        }
    }

    @Test
    void segmentsOfLargeSuperPacket() {
        Packet p = Packet.tcp4().payload(65535 - 52, 11);
        List<byte[]> segs = segment(superPacket(p, VirtioHeader.GSO_TCPV4, 1448));
        assertEquals((65535 - 52 + 1447) / 1448, segs.size());
        int total = 0;
        for (byte[] s : segs) {
            assertTrue(Naive.transportOk(s, 0, s.length));
            total += s.length - 52;
        }
        assertEquals(65535 - 52, total);
    }

    @Test
    void malformedIsRejected() {
        Packet p = Packet.tcp4().payload(3000, 12);
        byte[] ok = p.partial(true).build();
        int tcp4 = VirtioHeader.GSO_TCPV4;
        assertTrue(accepts(Packet.virtio(NEEDS_CSUM, tcp4, 52, 1000, 20, 16, ok)));
        assertFalse(accepts(Packet.virtio(NEEDS_CSUM, tcp4, 52, 0, 20, 16, ok)), "gso_size 0");
        assertFalse(accepts(Packet.virtio(NEEDS_CSUM, tcp4, 52, 1000, ok.length - 17, 16, ok)), "csum outside");
        assertFalse(accepts(Packet.virtio(NEEDS_CSUM, 0, 0, 0, 65535, 65535, ok)), "csum far outside");
        assertFalse(accepts(Packet.virtio(0, VirtioHeader.GSO_TCPV6, 52, 1000, 20, 16, ok)), "v4 packet as TCPV6");
        assertFalse(accepts(Packet.virtio(0, VirtioHeader.GSO_UDP, 52, 1000, 20, 16, ok)), "UFO");
        assertFalse(accepts(Packet.virtio(0, 2, 52, 1000, 20, 16, ok)), "unknown type");
        assertFalse(accepts(Packet.virtio(0, VirtioHeader.GSO_ECN, 0, 0, 0, 0, ok)), "NONE with ECN");
        assertFalse(accepts(Packet.virtio(0, VirtioHeader.GSO_UDP_L4, 52, 1000, 20, 6, ok)), "TCP as UDP_L4");
        assertFalse(accepts(Packet.virtio(0, tcp4, 52, 1000, 20, 16, Arrays.copyOf(ok, 100))), "truncated");
        assertFalse(accepts(Packet.virtio(0, tcp4, 52, 1000, 20, 16, Arrays.copyOf(ok, 30))), "no TCP header");
        assertFalse(accepts(Packet.virtio(0, tcp4, 52, 1000, 20, 16, Packet.tcp4().build())), "no payload");
        byte[] fragment = ok.clone();
        fragment[6] |= 0x20;
        assertFalse(accepts(Packet.virtio(0, tcp4, 52, 1000, 20, 16, fragment)), "MF set");
        byte[] badDoff = ok.clone();
        badDoff[32] = 0x40;
        assertFalse(accepts(Packet.virtio(0, tcp4, 52, 1000, 20, 16, badDoff)), "data offset 16");
        byte[] hopByHop = Packet.tcp6().payload(3000, 1).build();
        hopByHop[6] = 0;
        assertFalse(accepts(Packet.virtio(0, VirtioHeader.GSO_TCPV6, 72, 1000, 40, 16, hopByHop)), "IPv6 ext");
        ByteBuffer b = Packet.virtio(0, tcp4, 52, 1000, 20, 16, ok);
        assertFalse(segmenter.reset(b, 0, b.limit() + 1), "beyond limit");
        assertFalse(segmenter.reset(b, -1, 20), "negative offset");
        assertFalse(segmenter.reset(b, 0, 10), "header only");
        assertFalse(segmenter.reset(null, 0, 10), "no buffer");
        assertFalse(segmenter.hasNext());
        assertEquals(0, segmenter.count());
    }

    @Test
    void tooSmallDestinationSkipsThePacket() {
        Packet p = Packet.tcp4().payload(2500, 13);
        assertTrue(segmenter.reset(superPacket(p, VirtioHeader.GSO_TCPV4, 1000), 0, 10 + p.build().length));
        assertEquals(3, segmenter.count());
        assertEquals(-1, segmenter.next(new byte[100], 0));
        assertEquals(1052, segmenter.next(new byte[1052], 0));
        assertEquals(552, segmenter.nextLength());
        assertEquals(-1, segmenter.next(new byte[600], 49));
        assertFalse(segmenter.hasNext());
    }

    @Test
    void offsetInsideALargerBuffer() {
        Packet p = Packet.udp4().payload(2500, 14);
        ByteBuffer inner = superPacket(p, VirtioHeader.GSO_UDP_L4, 1000);
        ByteBuffer b = ByteBuffer.allocateDirect(inner.limit() + 100);
        b.put(37, inner, 0, inner.limit());
        assertTrue(segmenter.reset(b, 37, inner.limit()));
        assertEquals(3, segmenter.count());
    }

    private boolean accepts(ByteBuffer b) {
        return segmenter.reset(b, 0, b.limit());
    }

    @Test
    void fuzzNeverThrows() {
        Random r = new Random(42);
        ByteBuffer b = ByteBuffer.allocateDirect(2000);
        byte[] dst = new byte[2000];
        Packet[] seeds = {Packet.tcp4().ipOptions(new byte[] {1, 1, 1, 0}).payload(1500, 1), Packet.tcp6()
            .payload(1500, 2), Packet.udp4().payload(1500, 3), Packet.udp6().payload(1500, 4)};
        for (int round = 0; round < 200_000; round++) {
            int len = r.nextInt(1600);
            b.clear();
            if (r.nextBoolean()) {
                Packet seed = seeds[r.nextInt(seeds.length)];
                byte[] bytes = seed.build();
                int type = seed.proto == 17 ? 5 : seed.version == 4 ? 1 : 4;
                VirtioHeader.put(b, 0, r.nextInt(4), r.nextInt(8) == 0 ? r.nextInt(256) : type, r.nextInt(100),
                        r.nextInt(1600), r.nextInt(100), r.nextInt(30));
                b.put(10, bytes, 0, Math.min(bytes.length, b.capacity() - 10));
                for (int k = r.nextInt(4); k > 0; k--) {
                    b.put(r.nextInt(10 + len + 1), (byte) r.nextInt(256));
                }
                len = Math.min(10 + bytes.length - r.nextInt(3), b.capacity());
            } else {
                for (int i = 0; i < len; i++) {
                    b.put(i, (byte) r.nextInt(256));
                }
                b.put(1, (byte) r.nextInt(6));
            }
            if (segmenter.reset(b, 0, len)) {
                int n = 0;
                while (segmenter.hasNext() && n++ < 5000) {
                    int expected = segmenter.nextLength();
                    int got = segmenter.next(dst, 0);
                    assertTrue(got == expected || got == -1);
                }
            }
        }
    }
}
