package jwg.tunnel;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * One bound UDP socket of the device and its place on Netty's epoll event loop, which calls {@link Reader#readable}
 * while the socket holds datagrams (level-triggered: a reader that leaves some for later is called again).
 *
 * <p>AF_INET6 bound to the wildcard address with IPV6_V6ONLY off, so dual-stack: IPv4 peers come and go as
 * IPv4-mapped addresses, which the reader and {@link SendBatch} turn into and from plain IPv4 ones. Only a kernel
 * without IPv6 at all (ipv6.disable=1) refuses the AF_INET6 socket; an AF_INET one is all there is then. The family
 * is decided per socket, not once per process: a daemon started while loopback was down (boot, a fresh container)
 * still gets a dual-stack socket.
 *
 * <p>Thread-safety: immutable once open; {@link #close} runs on the event loop (waiting for it), so a close never
 * races the reader, and the descriptor number is not reused before the loop has let go of it.
 */
final class UdpSocket {
    private static final int IPPROTO_IPV6 = 41;
    private static final int IPV6_V6ONLY = 26;
    /** UDP's socket options and control messages: their level, GSO's segment size, GRO's on/off and segment size. */
    static final int SOL_UDP = 17;
    static final int UDP_SEGMENT = 103;
    static final int UDP_GRO = 104;

    /** What the event loop calls on the socket. */
    interface Reader {
        void readable(UdpSocket socket);
    }

    private final LinuxSocket socket;
    final int fd;
    final boolean ipv6;
    final int port;
    /** The kernel took UDP_GRO: messages may be runs of datagrams. */
    final boolean gro;
    private final IoEventLoop loop;
    private IoRegistration registration;

    private UdpSocket(LinuxSocket socket, boolean ipv6, boolean gro, IoEventLoop loop) {
        this.socket = socket;
        this.gro = gro;
        this.fd = socket.intValue();
        this.ipv6 = ipv6;
        this.port = socket.localAddress().getPort();
        this.loop = loop;
    }

    /**
     * A socket bound to port (0: any free one) on every address, or on 127.0.0.1 alone if loopbackOnly (the start-up
     * training's devices), with UDP_GRO if gro and the kernel takes it ({@link #gro} says), registered on loop for
     * reader. The caller's {@code configure} sets its other options before the bind; on any failure the socket is
     * closed again.
     */
    static UdpSocket open(IoEventLoop loop, int port, boolean loopbackOnly, boolean gro, Options configure,
            Reader reader) throws IOException {
        LinuxSocket s;
        try {
            s = LinuxSocket.newSocketDgram(SocketProtocolFamily.INET6);
        } catch (RuntimeException noIpv6) {
            return open(LinuxSocket.newSocketDgram(SocketProtocolFamily.INET), false, loop, port, loopbackOnly, gro,
                    configure, reader);
        }
        return open(s, true, loop, port, loopbackOnly, gro, configure, reader);
    }

    /** An IPv4-only socket, as a kernel without IPv6 gives (tests). */
    static UdpSocket openIpv4(IoEventLoop loop, int port, Reader reader) throws IOException {
        return open(LinuxSocket.newSocketDgram(SocketProtocolFamily.INET), false, loop, port, false, false, fd -> { },
                reader);
    }

    private static UdpSocket open(LinuxSocket s, boolean ipv6, IoEventLoop loop, int port, boolean loopback,
            boolean gro, Options configure, Reader reader) throws IOException {
        try {
            if (ipv6) {
                s.setIntOpt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
            }
            if (gro) {
                try {
                    s.setIntOpt(SOL_UDP, UDP_GRO, 1);
                } catch (IOException refused) {
                    gro = false; // a kernel before 5.0: datagrams come one by one
                }
            }
            configure.apply(s.intValue());
            s.bind(new InetSocketAddress(address(ipv6, loopback), port));
            UdpSocket u = new UdpSocket(s, ipv6, gro, loop);
            u.register(reader);
            return u;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Options a socket gets before its bind (buffers, fwmark). */
    interface Options {
        void apply(int fd) throws IOException;
    }

    /**
     * Every address, or 127.0.0.1 alone (as ::ffff:127.0.0.1 on a dual-stack socket, which works where IPv6 is
     * disabled too).
     */
    private static InetAddress address(boolean ipv6, boolean loopback) throws UnknownHostException {
        byte[] a = new byte[ipv6 ? 16 : 4];
        if (loopback) {
            int at = a.length - 4;
            if (ipv6) {
                a[10] = (byte) 0xff;
                a[11] = (byte) 0xff;
            }
            a[at] = 127;
            a[at + 3] = 1;
        }
        return ipv6 ? Inet6Address.getByAddress(null, a, 0) : InetAddress.getByAddress(a);
    }

    private void register(Reader reader) throws IOException {
        EpollIoHandle handle = new EpollIoHandle() {
            @Override
            public FileDescriptor fd() {
                return socket;
            }

            @Override
            public void handle(IoRegistration r, io.netty.channel.IoEvent event) {
                reader.readable(UdpSocket.this);
            }

            @Override
            public void close() {
                // The socket is closed by UdpSocket.close, not by the loop.
            }
        };
        try {
            registration = loop.register(handle).syncUninterruptibly().getNow();
            registration.submit(EpollIoOps.EPOLLIN);
        } catch (RuntimeException e) {
            throw new IOException("registering the UDP socket with the event loop: " + e.getMessage(), e);
        }
    }

    /** Whether the calling thread is the socket's event loop (which must never wait on the socket). */
    boolean inEventLoop() {
        return loop.inEventLoop();
    }

    /** Sends buf[0, len) to `to` with one sendto(2); false if it did not go whole. */
    boolean sendTo(java.nio.ByteBuffer buf, int len, InetSocketAddress to) {
        try {
            return socket.sendTo(buf, 0, len, to.getAddress(), to.getPort()) == len;
        } catch (IOException e) {
            return false;
        }
    }

    /** Off the event loop, then closed; waits for the loop to do it (it may be between two reads). */
    void close() {
        Runnable off = () -> {
            if (registration != null) {
                registration.cancel();
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do: the descriptor is gone either way
            }
        };
        if (loop.inEventLoop() || loop.isShuttingDown()) {
            off.run();
        } else {
            loop.submit(off).syncUninterruptibly();
        }
    }
}
