package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Datagrams taken from a real UDP socket on its real event loop, sent to it over loopback from IPv4 and IPv6 senders
 * and from a {@link SendBatch}'s GSO sends: each arrives byte for byte with its sender, a GSO run arrives as one GRO
 * message with its segment size where the socket has UDP_GRO and as datagrams where it has not, and recvmmsg takes
 * at most its slots at a time.
 */
class ReceiveBatchTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final IoEventLoop loop = (IoEventLoop) group.next();
    private final ReceiveBatch batch = new ReceiveBatch();
    private final BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    private final List<Integer> reads = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** One message as read: its bytes, its segment size, its sender. */
    private record Message(byte[] bytes, int segment, InetSocketAddress from) {}

    /** The event loop's reader: one recvmmsg per wake-up, every message copied out. */
    private void readable(UdpSocket s) {
        int n = batch.read(s.fd);
        reads.add(n);
        for (int i = 0; i < n; i++) {
            assertFalse(batch.truncated(i));
            byte[] b = new byte[batch.length(i)];
            batch.data().getBytes(batch.offset(i), b);
            batch.select(i);
            got.add(new Message(b, batch.segment(i), batch.source()));
        }
    }

    private UdpSocket open(boolean gro) throws IOException {
        UdpSocket s = UdpSocket.open(loop, 0, false, gro, fd -> { }, this::readable);
        toClose.add(s::close);
        return s;
    }

    private DatagramChannel sender(String host, StandardProtocolFamily family) throws IOException {
        DatagramChannel c = DatagramChannel.open(family);
        c.bind(new InetSocketAddress(host, 0));
        toClose.add(c);
        return c;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static byte[] datagram(int len, int mark) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (mark * 31 + i);
        }
        return b;
    }

    private Message next() throws InterruptedException {
        Message m = got.poll(5, TimeUnit.SECONDS);
        assertNotNull(m, "a datagram arrives");
        return m;
    }

    @Test
    void datagramsFromIPv4AndIPv6SendersArriveWholeWithTheirSenders() throws Exception {
        UdpSocket s = open(true);
        DatagramChannel v4 = sender("127.0.0.1", StandardProtocolFamily.INET);
        DatagramChannel v6 = sender("::1", StandardProtocolFamily.INET6);
        int[] sizes = {1, 148, 1452, 9000, 65_507};
        for (int i = 0; i < sizes.length; i++) {
            DatagramChannel from = i % 2 == 0 ? v4 : v6;
            from.send(ByteBuffer.wrap(datagram(sizes[i], i)),
                    new InetSocketAddress(i % 2 == 0 ? "127.0.0.1" : "::1", s.port));
            Message m = next();
            assertArrayEquals(datagram(sizes[i], i), m.bytes, sizes[i] + " bytes");
            assertEquals(sizes[i], m.segment, "one datagram: its segment is all of it");
            assertEquals(from.getLocalAddress(), m.from, "the sender, IPv4 as plain IPv4");
        }
    }

    @Test
    void oneSendersDatagramsShareOneAddressObject() throws Exception {
        UdpSocket s = open(false);
        DatagramChannel v4 = sender("127.0.0.1", StandardProtocolFamily.INET);
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", s.port);
        for (int i = 0; i < 50; i++) {
            v4.send(ByteBuffer.wrap(datagram(100, i)), to);
        }
        InetSocketAddress first = next().from;
        for (int i = 1; i < 50; i++) {
            assertSame(first, next().from);
        }
        assertEquals(1, batch.sourcesMade());
    }

    /** A GSO run of 10 full datagrams and a shorter tail, sent by a SendBatch to s. */
    private void sendRun(UdpSocket s, UdpSocket from) {
        SendBatch out = new SendBatch(new SendBatch.Socket() {
            @Override
            public UdpSocket current() {
                return from;
            }

            @Override
            public int gsoLimit() {
                return Integer.MAX_VALUE;
            }

            @Override
            public void gsoRefused(int segment, int errno) {
                throw new AssertionError("GSO refused on loopback: errno " + errno);
            }

            @Override
            public void failed(int n, int errno) {
                throw new AssertionError(n + " datagrams not sent: errno " + errno);
            }
        });
        InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.port);
        for (int i = 0; i < 10; i++) {
            assertTrue(out.add(datagram(1452, i), 0, 1452, to));
        }
        assertTrue(out.add(datagram(300, 10), 0, 300, to));
        out.flush();
        assertEquals(1, out.gsoMessagesSent, "the run left as one GSO send");
    }

    private static byte[] run() {
        ByteBuffer all = ByteBuffer.allocate(10 * 1452 + 300);
        for (int i = 0; i < 10; i++) {
            all.put(datagram(1452, i));
        }
        return all.put(datagram(300, 10)).array();
    }

    @Test
    void aGsoRunArrivesAsOneGroMessageWithItsSegmentSize() throws Exception {
        UdpSocket s = open(true);
        sendRun(s, open(false));
        Message m = next();
        assertEquals(1452, m.segment, "the run's segment size, from UDP_GRO's control message");
        assertArrayEquals(run(), m.bytes, "all of it, tail included, in order");
    }

    @Test
    void withoutGroTheSameRunArrivesDatagramByDatagram() throws Exception {
        UdpSocket s = open(false);
        sendRun(s, open(false));
        for (int i = 0; i < 10; i++) {
            Message m = next();
            assertArrayEquals(datagram(1452, i), m.bytes);
            assertEquals(1452, m.segment);
        }
        assertArrayEquals(datagram(300, 10), next().bytes);
    }

    @Test
    void oneReadTakesAtMostItsSlots() throws Exception {
        // Sent before the socket is read: a sender on the loop itself fills the queue first.
        UdpSocket s = open(false);
        DatagramChannel v6 = sender("::1", StandardProtocolFamily.INET6);
        InetSocketAddress to = new InetSocketAddress("::1", s.port);
        int total = 3 * ReceiveBatch.SLOTS + 5;
        loop.submit(() -> {
            for (int i = 0; i < total; i++) {
                v6.send(ByteBuffer.wrap(datagram(64, i)), to);
            }
            return null;
        }).get();
        for (int i = 0; i < total; i++) {
            assertArrayEquals(datagram(64, i), next().bytes, "datagram " + i + ", in order");
        }
        List<Integer> seen = loop.submit(() -> new ArrayList<>(reads)).get();
        assertEquals(ReceiveBatch.SLOTS, seen.get(0), "the first read: a full batch");
        assertTrue(seen.stream().allMatch(n -> n <= ReceiveBatch.SLOTS), seen.toString());
    }
}
