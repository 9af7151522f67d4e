package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How sealed datagrams are packed into GSO sends: one run per address and size, a shorter tail closes it. */
class SendBatchTest {
    private static final InetSocketAddress A = new InetSocketAddress("192.0.2.1", 51820);
    private static final InetSocketAddress B = new InetSocketAddress("2001:db8::1", 51820);

    private final EmbeddedChannel channel = new EmbeddedChannel();

    {
        // Room for everything a test queues before its flush (Udp sets 2-4 MiB on the real socket).
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 20, 2 << 20));
    }
    private int gsoLimit = Integer.MAX_VALUE;
    private final List<Integer> gsoSent = new ArrayList<>();
    private final SendBatch batch = new SendBatch(() -> channel, () -> gsoLimit, gsoSent::add);

    private static byte[] datagram(int len, int mark) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (mark + i);
        }
        return b;
    }

    private List<DatagramPacket> sent() {
        List<DatagramPacket> out = new ArrayList<>();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            out.add((DatagramPacket) o);
        }
        return out;
    }

    @Test
    void sameSizedDatagramsToOneAddressLeaveAsOneSegmentedSendWithTheirShorterTail() {
        byte[] all = new byte[3 * 1452 + 100];
        for (int i = 0; i < 3; i++) {
            byte[] d = datagram(1452, i);
            System.arraycopy(d, 0, all, i * 1452, 1452);
            assertTrue(batch.add(d, 0, d.length, A));
        }
        byte[] tail = datagram(100, 7);
        System.arraycopy(tail, 0, all, 3 * 1452, 100);
        batch.add(tail, 0, 100, A);
        assertNull(channel.readOutbound(), "nothing leaves before the flush");
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(1, sent.size());
        SegmentedDatagramPacket p = assertInstanceOf(SegmentedDatagramPacket.class, sent.get(0));
        assertEquals(1452, p.segmentSize());
        assertEquals(A, p.recipient());
        assertArrayEquals(all, ByteBufUtil.getBytes(p.content()));
        p.release();
    }

    @Test
    void aDatagramAfterTheShorterTailOpensANewRun() {
        batch.add(datagram(1452, 0), 0, 1452, A);
        batch.add(datagram(80, 1), 0, 80, A);
        batch.add(datagram(80, 2), 0, 80, A);
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(2, sent.size());
        assertEquals(1452 + 80, sent.get(0).content().readableBytes());
        assertEquals(80, sent.get(1).content().readableBytes());
        assertFalse(sent.get(1) instanceof SegmentedDatagramPacket, "a run of one is a plain datagram");
        sent.forEach(DatagramPacket::release);
    }

    @Test
    void anotherAddressOrABiggerDatagramClosesTheRun() {
        batch.add(datagram(500, 0), 0, 500, A);
        batch.add(datagram(500, 1), 0, 500, B);
        batch.add(datagram(600, 2), 0, 600, B);
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(3, sent.size());
        assertEquals(A, sent.get(0).recipient());
        assertEquals(B, sent.get(1).recipient());
        assertEquals(600, sent.get(2).content().readableBytes());
        sent.forEach(DatagramPacket::release);
    }

    @Test
    void aRunStopsAtTheKernelsSegmentAndByteLimits() {
        for (int i = 0; i < SendBatch.MAX_SEGMENTS + 1; i++) {
            batch.add(datagram(100, i), 0, 100, A);
        }
        for (int i = 0; i < 50; i++) {
            batch.add(datagram(1452, i), 0, 1452, B);
        }
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(SendBatch.MAX_SEGMENTS * 100, sent.get(0).content().readableBytes());
        assertEquals(100, sent.get(1).content().readableBytes());
        int perRun = SendBatch.MAX_BYTES / 1452;
        assertEquals(perRun * 1452, sent.get(2).content().readableBytes());
        assertEquals((50 - perRun) * 1452, sent.get(3).content().readableBytes());
        assertEquals(4, sent.size());
        sent.forEach(DatagramPacket::release);
    }

    @Test
    void withoutGsoEveryDatagramIsItsOwnMessage() {
        gsoLimit = 0;
        for (int i = 0; i < 3; i++) {
            batch.add(datagram(1452, i), 0, 1452, A);
        }
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(3, sent.size());
        for (DatagramPacket p : sent) {
            assertFalse(p instanceof SegmentedDatagramPacket);
            assertEquals(1452, p.content().readableBytes());
            p.release();
        }
    }

    @Test
    void gsoTurnedOffMidRunStillSendsTheOpenRunSegmented() {
        batch.add(datagram(1000, 0), 0, 1000, A);
        batch.add(datagram(1000, 1), 0, 1000, A);
        gsoLimit = 0;
        batch.add(datagram(1000, 2), 0, 1000, A);
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertInstanceOf(SegmentedDatagramPacket.class, sent.get(0));
        assertEquals(3000, sent.get(0).content().readableBytes());
        sent.forEach(DatagramPacket::release);
    }

    @Test
    void aFullSendQueueMeansDropped() {
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1000, 2000));
        assertTrue(batch.add(datagram(1452, 0), 0, 1452, A));
        batch.add(datagram(1452, 1), 0, 1452, B);
        assertFalse(batch.add(datagram(1452, 2), 0, 1452, A), "refused once 2,000 bytes wait unflushed");
        batch.flush();
        sent().forEach(DatagramPacket::release);
    }

    @Test
    void datagramsOverTheGsoLimitGoOneByOneAndSmallerOnesStillGoTogether() {
        gsoLimit = 9000;
        for (int i = 0; i < 3; i++) {
            batch.add(datagram(16032, i), 0, 16032, A);
        }
        for (int i = 0; i < 3; i++) {
            batch.add(datagram(1452, i), 0, 1452, A);
        }
        batch.flush();
        List<DatagramPacket> sent = sent();
        assertEquals(4, sent.size());
        for (int i = 0; i < 3; i++) {
            assertFalse(sent.get(i) instanceof SegmentedDatagramPacket);
            assertEquals(16032, sent.get(i).content().readableBytes());
        }
        assertInstanceOf(SegmentedDatagramPacket.class, sent.get(3));
        assertEquals(List.of(1452), gsoSent, "each GSO send reports its segment size");
        sent.forEach(DatagramPacket::release);
    }

    @Test
    void noSocketMeansDropped() {
        SendBatch none = new SendBatch(() -> null, () -> Integer.MAX_VALUE, size -> { });
        assertFalse(none.add(datagram(10, 0), 0, 10, A));
        none.flush();
    }
}
