package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How sealed datagrams are packed into sendmmsg messages and GSO runs, sent through a real UDP socket on loopback to
 * real receivers, which must get every datagram, byte for byte and in order: one run per address and size, a
 * shorter tail closes it, the kernel's limits cut it, and a GSO send the kernel refuses goes again one by one.
 */
class SendBatchTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private UdpSocket channel = open(true);
    private int gsoLimit = Integer.MAX_VALUE;
    private final List<Integer> refused = new ArrayList<>();
    private final List<Integer> refusedErrno = new ArrayList<>();
    private int failed;

    private final SendBatch batch = new SendBatch(new SendBatch.Socket() {
        @Override
        public UdpSocket current() {
            return channel;
        }

        @Override
        public int gsoLimit() {
            return gsoLimit;
        }

        @Override
        public void gsoRefused(int segment, int errno) {
            refused.add(segment);
            refusedErrno.add(errno);
            gsoLimit = 0;
        }

        @Override
        public void failed(int n, int errno) {
            failed += n;
        }
    });

    private final DatagramChannel receiverA = receiver("127.0.0.1", StandardProtocolFamily.INET);
    private final DatagramChannel receiverB = receiver("::1", StandardProtocolFamily.INET6);
    private final InetSocketAddress a = local(receiverA);
    private final InetSocketAddress b = local(receiverB);

    /** The sending socket: dual-stack, or IPv4 only as on a kernel without IPv6. Nothing is sent to it. */
    private UdpSocket open(boolean ipv6) {
        IoEventLoop loop = (IoEventLoop) group.next();
        try {
            UdpSocket s = ipv6 ? UdpSocket.open(loop, 0, false, false, fd -> { }, unused -> { })
                    : UdpSocket.openIpv4(loop, 0, unused -> { });
            toClose.add(s::close);
            return s;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private DatagramChannel receiver(String host, StandardProtocolFamily family) {
        try {
            DatagramChannel r = DatagramChannel.open(family);
            r.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            r.bind(new InetSocketAddress(host, 0));
            toClose.add(r);
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InetSocketAddress local(DatagramChannel r) {
        try {
            return (InetSocketAddress) r.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static byte[] datagram(int len, int mark) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (mark * 31 + i);
        }
        return b;
    }

    /** Adds d for to and remembers it as expected there. */
    private void add(List<byte[]> expected, byte[] d, InetSocketAddress to) {
        assertTrue(batch.add(d, 0, d.length, to));
        expected.add(d);
    }

    /** Exactly the datagrams expected arrive at r, in order, and nothing more within a moment. */
    private static void assertReceived(DatagramChannel r, List<byte[]> expected) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(70_000);
        r.configureBlocking(true);
        for (int i = 0; i < expected.size(); i++) {
            buf.clear();
            r.receive(buf);
            buf.flip();
            byte[] got = new byte[buf.remaining()];
            buf.get(got);
            assertArrayEquals(expected.get(i), got, "datagram " + i + " of " + expected.size());
        }
        r.configureBlocking(false);
        buf.clear();
        assertNull(r.receive(buf), "nothing more arrives");
    }

    @Test
    void sameSizedDatagramsToOneAddressLeaveAsOneGsoSendWithTheirShorterTail() throws IOException {
        List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            add(expected, datagram(1452, i), a);
        }
        add(expected, datagram(100, 7), a);
        assertEquals(0, batch.messagesSent, "nothing leaves before the flush");
        batch.flush();
        assertEquals(1, batch.messagesSent);
        assertEquals(1, batch.gsoMessagesSent);
        assertReceived(receiverA, expected);
    }

    @Test
    void aDatagramAfterTheShorterTailOpensANewRun() throws IOException {
        List<byte[]> expected = new ArrayList<>();
        add(expected, datagram(1452, 0), a);
        add(expected, datagram(80, 1), a);
        add(expected, datagram(80, 2), a);
        batch.flush();
        assertEquals(2, batch.messagesSent, "the tail closes the run; the next datagram is a message of its own");
        assertEquals(1, batch.gsoMessagesSent, "a run of one is a plain datagram");
        assertReceived(receiverA, expected);
    }

    @Test
    void anotherAddressOrABiggerDatagramClosesTheRunAndIPv4AndIPv6GoThroughOneSocket() throws IOException {
        List<byte[]> toA = new ArrayList<>();
        List<byte[]> toB = new ArrayList<>();
        add(toA, datagram(500, 0), a);
        add(toB, datagram(500, 1), b);
        add(toB, datagram(600, 2), b);
        add(toA, datagram(500, 3), a);
        batch.flush();
        assertEquals(4, batch.messagesSent);
        assertEquals(0, batch.gsoMessagesSent);
        assertReceived(receiverA, toA);
        assertReceived(receiverB, toB);
    }

    @Test
    void aRunStopsAtTheKernelsSegmentAndByteLimitsAndABatchAtItsOwn() throws IOException {
        List<byte[]> toA = new ArrayList<>();
        List<byte[]> toB = new ArrayList<>();
        for (int i = 0; i < SendBatch.MAX_SEGMENTS + 1; i++) {
            add(toA, datagram(100, i), a);
        }
        for (int i = 0; i < 100; i++) {
            add(toB, datagram(1452, i), b);
        }
        batch.flush();
        int perRun = SendBatch.MAX_BYTES / 1452;
        // 64 + 1 to a; 44 + 44 + 12 to b.
        assertEquals(2 + (100 + perRun - 1) / perRun, batch.messagesSent);
        assertEquals(1 + (100 + perRun - 1) / perRun, batch.gsoMessagesSent);
        assertReceived(receiverA, toA);
        assertReceived(receiverB, toB);
    }

    @Test
    void manySmallDatagramsToManyAddressesLeaveInSendsOfAtMostTheBatchsMessages() throws IOException {
        List<byte[]> toA = new ArrayList<>();
        List<byte[]> toB = new ArrayList<>();
        for (int i = 0; i < 3 * SendBatch.MAX_MESSAGES; i++) {
            add(i % 2 == 0 ? toA : toB, datagram(90 + i % 7, i), i % 2 == 0 ? a : b);
        }
        batch.flush();
        assertEquals(3 * SendBatch.MAX_MESSAGES, batch.messagesSent);
        assertReceived(receiverA, toA);
        assertReceived(receiverB, toB);
    }

    @Test
    void withoutGsoEveryDatagramIsItsOwnMessage() throws IOException {
        gsoLimit = 0;
        List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            add(expected, datagram(1452, i), a);
        }
        batch.flush();
        assertEquals(3, batch.messagesSent);
        assertEquals(0, batch.gsoMessagesSent);
        assertReceived(receiverA, expected);
    }

    @Test
    void datagramsOverTheGsoLimitGoOneByOneAndSmallerOnesStillGoTogether() throws IOException {
        gsoLimit = 9000;
        List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            add(expected, datagram(16032, i), a);
        }
        for (int i = 0; i < 3; i++) {
            add(expected, datagram(1452, i), a);
        }
        batch.flush();
        assertEquals(4, batch.messagesSent);
        assertEquals(1, batch.gsoMessagesSent);
        assertReceived(receiverA, expected);
    }

    @Test
    void theLargestDatagramUdpCarriesGoesWhole() throws IOException {
        List<byte[]> expected = new ArrayList<>();
        add(expected, datagram(65_000 + 32, 1), a);
        add(expected, datagram(65_000 + 32, 2), a);
        add(expected, datagram(1452, 3), a);
        batch.flush();
        assertEquals(3, batch.messagesSent);
        assertReceived(receiverA, expected);
    }

    /** SO_NO_CHECK (a socket that sends without UDP checksums) is one way to have the kernel refuse GSO: EINVAL. */
    interface SockOpt extends Library {
        SockOpt C = Native.load("c", SockOpt.class);

        int setsockopt(int fd, int level, int name, int[] value, int length);
    }

    @Test
    void aGsoSendTheKernelRefusesIsToldAndSentAgainOneByOne() throws IOException {
        int fd = channel.fd;
        assertEquals(0, SockOpt.C.setsockopt(fd, 1, 11, new int[] {1}, 4), "SO_NO_CHECK");
        List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            add(expected, datagram(1200, i), a);
        }
        add(expected, datagram(300, 9), a);
        batch.flush();
        assertEquals(List.of(1200), refused);
        assertEquals(List.of(22), refusedErrno, "EINVAL");
        assertEquals(0, failed);
        assertReceived(receiverA, expected);
    }

    @Test
    void datagramsHeldWhenTheSocketIsReplacedLeaveOnTheNewOne() throws IOException {
        List<byte[]> expected = new ArrayList<>();
        add(expected, datagram(1452, 0), a);
        add(expected, datagram(1452, 1), a);
        channel = open(true);
        add(expected, datagram(1452, 2), a);
        batch.flush();
        assertEquals(0, failed);
        assertReceived(receiverA, expected);
    }

    @Test
    void anIPv4OnlySocketSendsToIPv4AndRefusesIPv6() throws IOException {
        channel = open(false);
        List<byte[]> expected = new ArrayList<>();
        add(expected, datagram(700, 0), a);
        add(expected, datagram(700, 1), a);
        assertFalse(batch.add(datagram(700, 2), 0, 700, b), "an IPv6 address on an IPv4 socket: refused");
        add(expected, datagram(700, 3), a);
        batch.flush();
        assertReceived(receiverA, expected);
    }

    @Test
    void noSocketMeansDropped() {
        channel = null;
        assertFalse(batch.add(datagram(10, 0), 0, 10, a));
        batch.flush();
        assertEquals(0, batch.messagesSent);
    }

    @Test
    void aSocketAddressIsEncodedAsTheKernelReadsIt() {
        byte[] out = new byte[28];
        SendBatch.encode(new InetSocketAddress("192.0.2.1", 51820), true, out);
        byte[] mapped = new byte[28];
        mapped[0] = 10;
        mapped[2] = (byte) 0xca;
        mapped[3] = 0x6c;
        mapped[18] = (byte) 0xff;
        mapped[19] = (byte) 0xff;
        mapped[20] = (byte) 192;
        mapped[22] = 2;
        mapped[23] = 1;
        assertArrayEquals(mapped, out, "AF_INET6, port 51820 big-endian, ::ffff:192.0.2.1");
        SendBatch.encode(new InetSocketAddress("192.0.2.1", 51820), false, out);
        assertArrayEquals(new byte[] {2, 0, (byte) 0xca, 0x6c, (byte) 192, 0, 2, 1}, Arrays.copyOf(out, 8));
    }
}
