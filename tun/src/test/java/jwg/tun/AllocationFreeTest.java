package jwg.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Neither path allocates per packet once warm: measured with the JVM's per-thread allocation counter. */
class AllocationFreeTest {
    private static long allocated() {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return bean.getCurrentThreadAllocatedBytes();
    }

    @Test
    void segmentAndCoalesceWithoutAllocating() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        ByteBuffer tcp = SegmenterTest.superPacket(Packet.tcp4().payload(40 * 1448 + 3, 1), VirtioHeader.GSO_TCPV4,
                1448);
        ByteBuffer udp = SegmenterTest.superPacket(Packet.udp6().payload(20 * 1200, 2), VirtioHeader.GSO_UDP_L4, 1200);
        Segmenter segmenter = new Segmenter();
        Coalescer coalescer = new Coalescer(64);
        coalescer.setUdp(true);
        byte[] dst = new byte[64 * 1600];
        long[] written = new long[1];
        Coalescer.Writer writer = b -> written[0] += b.remaining();
        for (int round = 0; round < 3; round++) {
            long before = allocated();
            for (int i = 0; i < 2000; i++) {
                cycle(segmenter, coalescer, tcp, dst, writer);
                cycle(segmenter, coalescer, udp, dst, writer);
            }
            long used = allocated() - before;
            if (round == 2) {
                assertTrue(used < 64 * 1024, "allocated " + used + " bytes in 4000 super-packets");
            }
        }
        assertTrue(written[0] > 0);
    }

    private static void cycle(Segmenter s, Coalescer c, ByteBuffer b, byte[] dst, Coalescer.Writer w)
            throws Exception {
        assertTrue(s.reset(b, 0, b.limit()));
        int at = 0;
        while (s.hasNext()) {
            int n = s.next(dst, at);
            assertTrue(c.add(dst, at, n));
            at += n;
        }
        c.flush(w);
        assertEquals(0, c.pending());
    }
}
