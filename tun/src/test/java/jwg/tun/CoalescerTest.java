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
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class CoalescerTest {
    private final Coalescer coalescer = new Coalescer(64);
    private final List<byte[]> written = new ArrayList<>();
    private final Coalescer.Writer capture = b -> {
        assertEquals(0, b.position());
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        written.add(copy);
    };

    /** The i-th of a run of full-checksum TCP segments of 1000 bytes (or len), IDs counting up. */
    private static Packet seg(Packet p, int i) {
        return p.seq(1000 + i * 1000).id(100 + i).payload(1000, i);
    }

    private List<byte[]> offer(byte[]... packets) throws Exception {
        for (byte[] p : packets) {
            assertTrue(coalescer.add(p, 0, p.length));
        }
        coalescer.flush(capture);
        assertEquals(0, coalescer.pending());
        return written;
    }

    private static byte[][] run(IntFunction<byte[]> make, int n) {
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            out[i] = make.apply(i);
        }
        return out;
    }

    /** Splits every written item back into packets with the Segmenter: the independent oracle for order and bytes. */
    private static List<byte[]> resegment(List<byte[]> items) {
        Segmenter s = new Segmenter();
        List<byte[]> out = new ArrayList<>();
        byte[] dst = new byte[70000];
        for (byte[] item : items) {
            ByteBuffer b = ByteBuffer.allocateDirect(item.length).put(0, item);
            assertTrue(s.reset(b, 0, item.length), "the Segmenter accepts what the Coalescer writes");
            while (s.hasNext()) {
                int n = s.next(dst, 0);
                out.add(Arrays.copyOf(dst, n));
            }
        }
        return out;
    }

    private static void assertSamePackets(byte[][] expected, List<byte[]> actual) {
        assertEquals(expected.length, actual.size());
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual.get(i), "packet " + i);
        }
    }

    private static byte[] packetOf(byte[] item) {
        return Arrays.copyOfRange(item, 10, item.length);
    }

    @Test
    void inOrderSegmentsMergeIntoOneSuperPacket() throws Exception {
        byte[][] in = run(i -> seg(Packet.tcp4(), i).build(), 4);
        List<byte[]> out = offer(in);
        assertEquals(1, out.size());
        byte[] item = out.get(0);
        byte[] p = packetOf(item);
        assertEquals(VirtioHeader.F_NEEDS_CSUM, VirtioHeader.flags(item, 0));
        assertEquals(VirtioHeader.GSO_TCPV4, VirtioHeader.gsoType(item, 0));
        assertEquals(52, VirtioHeader.hdrLen(item, 0));
        assertEquals(1000, VirtioHeader.gsoSize(item, 0));
        assertEquals(20, VirtioHeader.csumStart(item, 0));
        assertEquals(16, VirtioHeader.csumOffset(item, 0));
        assertEquals(52 + 4000, p.length);
        assertEquals(p.length, Packet.u16(p, 2));
        assertEquals(100, Packet.u16(p, 4), "the first ID");
        assertTrue(Naive.ipv4HeaderOk(p, 0));
        assertEquals(Naive.pseudo(p, 0, 6, 32 + 4000), Packet.u16(p, 36), "partial checksum: pseudo-header sum");
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(Arrays.copyOfRange(in[i], 52, 1052), Arrays.copyOfRange(p, 52 + i * 1000,
                    52 + i * 1000 + 1000));
        }
        // Completing the partial checksum as the kernel would gives a valid packet.
        int full = ~Naive.sum(0, p, 20, p.length - 20) & 0xffff;
        Packet.put16(p, 36, full);
        assertTrue(Naive.transportOk(p, 0, p.length));
        assertSamePackets(in, resegment(out));
    }

    private void roundTrip(Packet p, int gsoType, int gso, int payload) throws Exception {
        ByteBuffer original = SegmenterTest.superPacket(p.payload(payload, 9), gsoType, gso);
        byte[] expected = new byte[original.limit()];
        original.get(0, expected);
        Segmenter s = new Segmenter();
        assertTrue(s.reset(original, 0, expected.length));
        byte[] dst = new byte[2000];
        while (s.hasNext()) {
            int n = s.next(dst, 0);
            assertTrue(coalescer.add(dst, 0, n));
        }
        written.clear();
        coalescer.flush(capture);
        assertEquals(1, written.size());
        assertArrayEquals(expected, written.get(0));
    }

    @Test
    void roundTripTcp4() throws Exception {
        roundTrip(Packet.tcp4().flags(Packet.ACK | Packet.PSH).id(0xfffe), VirtioHeader.GSO_TCPV4, 1000, 3 * 1000 + 17);
        roundTrip(Packet.tcp4().ports(1, 2).options(new byte[0]), VirtioHeader.GSO_TCPV4, 1448, 40 * 1448);
    }

    @Test
    void roundTripTcp6() throws Exception {
        roundTrip(Packet.tcp6().flags(Packet.ACK | Packet.PSH), VirtioHeader.GSO_TCPV6, 1000, 3 * 1000 + 17);
        roundTrip(Packet.tcp6(), VirtioHeader.GSO_TCPV6, 1208, 50 * 1208);
    }

    @Test
    void roundTripUdp() throws Exception {
        coalescer.setUdp(true);
        roundTrip(Packet.udp4(), VirtioHeader.GSO_UDP_L4, 1200, 5 * 1200 + 1);
        roundTrip(Packet.udp6(), VirtioHeader.GSO_UDP_L4, 1000, 7 * 1000);
    }

    @Test
    void aGapOrADuplicateStartsANewItem() throws Exception {
        byte[] a = seg(Packet.tcp4(), 0).build();
        byte[] b = seg(Packet.tcp4(), 1).build();
        byte[] c = seg(Packet.tcp4(), 3).build();
        byte[][] in = {a, b, c};
        assertEquals(2, offer(in).size(), "gap");
        assertSamePackets(in, resegment(written));
        written.clear();
        byte[][] dup = {a, b, b};
        assertEquals(2, offer(dup).size(), "duplicate");
        assertSamePackets(dup, resegment(written));
    }

    @Test
    void pshClosesTheItem() throws Exception {
        byte[][] in = {seg(Packet.tcp4(), 0).build(), seg(Packet.tcp4(), 1).flags(Packet.ACK | Packet.PSH).build(),
            seg(Packet.tcp4(), 2).build()};
        List<byte[]> out = offer(in);
        assertEquals(2, out.size());
        assertEquals(Packet.ACK | Packet.PSH, out.get(0)[10 + 33] & 0xff, "PSH of the last merged kept");
        assertSamePackets(in, resegment(out));
    }

    @Test
    void pshOnTheFirstKeepsItAlone() throws Exception {
        byte[][] in = {seg(Packet.tcp4(), 0).flags(Packet.ACK | Packet.PSH).build(), seg(Packet.tcp4(), 1).build()};
        assertEquals(2, offer(in).size());
        assertArrayEquals(new byte[10], Arrays.copyOf(written.get(0), 10), "one packet: zero header");
        assertArrayEquals(in[0], packetOf(written.get(0)));
    }

    @Test
    void controlFlagsNeverMerge() throws Exception {
        int[] flags = {Packet.FIN, Packet.SYN, Packet.RST, Packet.URG, Packet.CWR, Packet.ECE};
        for (int f : flags) {
            for (int where = 0; where < 3; where++) {
                written.clear();
                final int w = where;
                byte[][] in = run(i -> seg(Packet.tcp4(), i).flags(Packet.ACK | (i == w ? f : 0)).build(), 3);
                List<byte[]> out = offer(in);
                assertEquals(where == 1 ? 3 : 2, out.size(), "flag " + f + " at " + where);
                assertSamePackets(in, resegment(out));
            }
        }
    }

    @Test
    void pureAcksNeverMerge() throws Exception {
        byte[][] in = run(i -> Packet.tcp4().id(100 + i).payload(0, 0).build(), 3);
        assertEquals(3, offer(in).size());
        assertSamePackets(in, resegment(written));
    }

    @Test
    void interleavedFlowsKeepPerFlowOrder() throws Exception {
        IntFunction<byte[]> a = i -> seg(Packet.tcp4(), i).build();
        IntFunction<byte[]> b = i -> seg(Packet.tcp4().ports(5555, 443), i).build();
        byte[][] in = {a.apply(0), b.apply(0), a.apply(1), b.apply(1), a.apply(2)};
        List<byte[]> out = offer(in);
        assertEquals(2, out.size());
        assertSamePackets(new byte[][] {in[0], in[2], in[4], in[1], in[3]}, resegment(out));
    }

    @Test
    void aPacketWithoutPortsClosesItsHostsItems() throws Exception {
        byte[] icmp = Packet.tcp4().payload(8, 1).build();
        icmp[9] = 1; // same hosts, now "ICMP"; only its order matters
        byte[] udpOther = Packet.udp4().payload(10, 2).build();
        IntFunction<byte[]> a = i -> seg(Packet.tcp4(), i).build();
        byte[][] in = {a.apply(0), icmp, a.apply(1), udpOther, a.apply(2)};
        List<byte[]> out = offer(in);
        assertEquals(4, out.size());
        assertSamePackets(new byte[][] {in[0], in[1], in[2], in[4], in[3]}, resegment(out));
    }

    @Test
    void differentHeaderFieldsDoNotMerge() throws Exception {
        List<java.util.function.Consumer<Packet>> changes = List.of(
                p -> p.options(Packet.timestamps(1, 3)),
                p -> p.options(new byte[0]),
                p -> p.window = 502,
                p -> p.ack = 77778,
                p -> p.ttl = 63,
                p -> p.tos = 4,
                p -> p.df = false,
                p -> p.ports(40001, 443),
                p -> p.src4 = new byte[] {10, 0, 0, 3});
        for (var change : changes) {
            written.clear();
            Packet second = seg(Packet.tcp4(), 1);
            change.accept(second);
            byte[][] in = {seg(Packet.tcp4(), 0).build(), second.build()};
            assertEquals(2, offer(in).size());
            List<byte[]> back = resegment(written);
            assertEquals(2, back.size());
        }
    }

    @Test
    void ipv6FlowLabelAndHopLimitMustMatch() throws Exception {
        byte[][] same = run(i -> seg(Packet.tcp6(), i).build(), 3);
        assertEquals(1, offer(same).size());
        assertEquals(VirtioHeader.GSO_TCPV6, VirtioHeader.gsoType(written.get(0), 0));
        assertEquals(40, VirtioHeader.csumStart(written.get(0), 0));
        assertEquals(3000 + 32, Packet.u16(written.get(0), 10 + 4));
        assertSamePackets(same, resegment(written));
        written.clear();
        Packet label = seg(Packet.tcp6(), 1);
        label.flowLabel = 7;
        Packet hops = seg(Packet.tcp6(), 2);
        hops.ttl = 1;
        assertEquals(3, offer(seg(Packet.tcp6(), 0).build(), label.build(), hops.build()).size());
    }

    @Test
    void ipv4IdsMustCountUpUnlessDf() throws Exception {
        IntFunction<byte[]> noDf = i -> {
            Packet p = seg(Packet.tcp4(), i);
            p.df = false;
            return p.id(i == 1 ? 500 : 100 + i).build();
        };
        assertEquals(3, offer(run(noDf, 3)).size());
        written.clear();
        assertEquals(1, offer(run(i -> seg(Packet.tcp4(), i).id(7 * i).build(), 3)).size(), "DF: IDs free");
    }

    @Test
    void aBadChecksumPassesAlone() throws Exception {
        byte[][] in = run(i -> seg(Packet.tcp4(), i).build(), 3);
        in[1][60] ^= 1;
        List<byte[]> out = offer(in);
        assertEquals(3, out.size());
        assertArrayEquals(in[1], packetOf(out.get(1)));
        assertArrayEquals(new byte[10], Arrays.copyOf(out.get(1), 10));
        byte[][] badIp = run(i -> seg(Packet.tcp4(), i).build(), 2);
        badIp[1][10] ^= 1;
        written.clear();
        assertEquals(2, offer(badIp).size());
    }

    @Test
    void sizeLimitSplitsIntoTwoItems() throws Exception {
        byte[][] in = run(i -> seg(Packet.tcp4(), i).build(), 70);
        List<byte[]> out = offer(in);
        assertEquals(2, out.size());
        assertEquals(10 + 52 + 65 * 1000, out.get(0).length);
        assertTrue(out.get(0).length - 10 <= 65535);
        assertSamePackets(in, resegment(out));
    }

    @Test
    void shorterSegmentClosesLargerStartsNew() throws Exception {
        byte[][] in = {seg(Packet.tcp4(), 0).build(), seg(Packet.tcp4(), 1).payload(500, 1).build(),
            Packet.tcp4().seq(2500).id(102).payload(1000, 2).build(),
            Packet.tcp4().seq(3500).id(103).payload(1200, 3).build()};
        List<byte[]> out = offer(in);
        assertEquals(3, out.size());
        assertSamePackets(in, resegment(out));
    }

    @Test
    void udpOnlyWhenEnabled() throws Exception {
        byte[][] in = run(i -> Packet.udp4().id(100 + i).payload(1200, i).build(), 4);
        assertEquals(4, offer(in).size());
        written.clear();
        coalescer.setUdp(true);
        List<byte[]> out = offer(in);
        assertEquals(1, out.size());
        byte[] item = out.get(0);
        assertEquals(VirtioHeader.GSO_UDP_L4, VirtioHeader.gsoType(item, 0));
        assertEquals(6, VirtioHeader.csumOffset(item, 0));
        assertEquals(28, VirtioHeader.hdrLen(item, 0));
        assertEquals(8 + 4800, Packet.u16(item, 10 + 24));
        assertSamePackets(in, resegment(out));
    }

    @Test
    void udpZeroChecksumRules() throws Exception {
        coalescer.setUdp(true);
        byte[][] v4 = run(i -> Packet.udp4().id(100 + i).payload(1200, i).build(), 3);
        for (byte[] p : v4) {
            p[26] = 0;
            p[27] = 0;
        }
        assertEquals(1, offer(v4).size(), "IPv4: zero means no checksum");
        written.clear();
        byte[][] mixed = run(i -> Packet.udp4().id(100 + i).payload(1200, i).build(), 3);
        mixed[1][26] = 0;
        mixed[1][27] = 0;
        assertEquals(3, offer(mixed).size(), "with and without a checksum do not mix");
        written.clear();
        byte[][] v6 = run(i -> Packet.udp6().payload(1200, i).build(), 3);
        for (byte[] p : v6) {
            p[46] = 0;
            p[47] = 0;
        }
        assertEquals(3, offer(v6).size(), "IPv6: zero is invalid");
    }

    @Test
    void udpDatagramCountIsLimited() throws Exception {
        coalescer.setUdp(true);
        byte[][] in = run(i -> Packet.udp4().id(i).payload(100, i).build(), 130);
        assertEquals(3, offer(in).size());
        assertSamePackets(in, resegment(written));
    }

    @Test
    void fullUntilFlushed() throws Exception {
        Coalescer small = new Coalescer(2);
        byte[] a = Packet.tcp4().ports(1, 1).payload(10, 1).build();
        byte[] b = Packet.tcp4().ports(2, 2).payload(10, 1).build();
        byte[] a2 = Packet.tcp4().ports(1, 1).seq(1010).id(0x1235).payload(10, 2).build();
        assertTrue(small.add(a, 0, a.length));
        assertTrue(small.add(b, 0, b.length));
        assertTrue(small.add(a2, 0, a2.length), "merging needs no new item");
        assertFalse(small.add(b, 0, b.length));
        small.flush(capture);
        assertEquals(2, written.size());
        assertTrue(small.add(b, 0, b.length));
    }

    @Test
    void garbageIsPassedOrDropped() throws Exception {
        byte[] junk = {1, 2, 3};
        assertTrue(coalescer.add(junk, 0, 3));
        assertTrue(coalescer.add(junk, 2, 5), "range outside: dropped");
        assertTrue(coalescer.add(new byte[70000], 0, 70000), "too large: dropped");
        assertTrue(coalescer.add(junk, 0, 0), "empty: dropped");
        coalescer.flush(capture);
        assertEquals(1, written.size());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, written.get(0));
    }

    @Test
    void fuzzNeverThrowsAndOutputAlwaysSegments() throws Exception {
        Random r = new Random(7);
        Coalescer c = new Coalescer(8);
        c.setUdp(true);
        Segmenter s = new Segmenter();
        byte[] dst = new byte[70000];
        Coalescer.Writer check = b -> {
            int n = b.remaining();
            assertTrue(s.reset(b, 0, n), "every written item segments");
            while (s.hasNext()) {
                int len = s.next(dst, 0);
                if (VirtioHeader.gsoType(b, 0) != 0) {
                    assertTrue(Naive.transportOk(dst, 0, len));
                }
            }
        };
        Packet[] kinds = {Packet.tcp4(), Packet.tcp6(), Packet.udp4(), Packet.udp6()};
        byte[] buf = new byte[3000];
        for (int round = 0; round < 100_000; round++) {
            Packet p = kinds[r.nextInt(kinds.length)];
            p.seq(1000 + 100 * r.nextInt(4)).id(r.nextInt(4)).payload(r.nextInt(3) * 50 + r.nextInt(2), 0)
                    .flags(r.nextInt(4) == 0 ? r.nextInt(256) : Packet.ACK);
            byte[] bytes = p.build();
            int len = bytes.length;
            System.arraycopy(bytes, 0, buf, 0, len);
            if (r.nextInt(3) == 0) {
                buf[r.nextInt(len)] = (byte) r.nextInt(256);
                len = Math.max(1, len - r.nextInt(3));
            }
            if (r.nextInt(20) == 0) {
                len = 1 + r.nextInt(100);
                for (int i = 0; i < len; i++) {
                    buf[i] = (byte) r.nextInt(256);
                }
            }
            if (!c.add(buf, 0, len) || r.nextInt(30) == 0) {
                c.flush(check);
                c.add(buf, 0, len);
            }
        }
        c.flush(check);
    }
}
