package jwg.tun;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN device (IFF_TUN | IFF_NO_PI): one IP packet per read or write, no packet-information prefix.
 *
 * <p>The descriptor is non-blocking: {@link #read} returns {@link #EMPTY} when nothing is queued, which tells the
 * caller a batch is complete (flush what it has, then {@link #awaitReadable}), so that batching costs one extra
 * syscall per batch rather than one per packet. Reads and writes go to and from native memory by address (see
 * {@link #address}), with no copy or allocation in between.
 *
 * <p>A read or write error other than EAGAIN/EINTR means the device is gone (for instance {@code ip link del}): the
 * call throws, and the caller is expected to close and shut down, as wireguard-go does.
 *
 * <p>Thread-safety: one reader thread and any number of writer threads may use it at once (the kernel keeps each
 * read and write whole); {@link #close} is idempotent.
 */
public final class Tun implements AutoCloseable {
    /** {@link #read} result: no packet queued right now. */
    public static final int EMPTY = -1;

    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final int IFR_DATA = 16;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;

    private final String name;
    private final int fd;
    private final Memory pollFd = new Memory(8);
    private volatile boolean closed;

    private Tun(String name, int fd) {
        this.name = name;
        this.fd = fd;
        pollFd.setInt(0, fd);
        pollFd.setShort(4, LibC.POLLIN);
    }

    /**
     * Creates the TUN interface name (or attaches to an existing non-persistent one of that name that nobody holds).
     * A name with "%d" lets the kernel pick the number; {@link #name()} says which it picked.
     */
    public static Tun create(String name) throws IOException {
        byte[] encoded = name.getBytes(StandardCharsets.US_ASCII);
        if (encoded.length == 0 || encoded.length >= IFNAMSIZ || name.contains("/")) {
            throw new IOException("invalid interface name '" + name + "' (1 to 15 characters, no '/')");
        }
        int fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw error("open /dev/net/tun", LibC.errno());
        }
        try (Memory ifr = new Memory(IFREQ_SIZE)) {
            ifr.clear();
            ifr.write(0, encoded, 0, encoded.length);
            ifr.setShort(IFR_DATA, (short) (IFF_TUN | IFF_NO_PI));
            if (LibC.ioctl(fd, LibC.TUNSETIFF, Pointer.nativeValue(ifr)) < 0) {
                int errno = LibC.errno();
                LibC.close(fd);
                throw error("create TUN device " + name, errno);
            }
            int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
            if (flags < 0 || LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0) {
                int errno = LibC.errno();
                LibC.close(fd);
                throw error("make TUN descriptor non-blocking", errno);
            }
            return new Tun(ifr.getString(0, "US-ASCII"), fd);
        }
    }

    public String name() {
        return name;
    }

    /** The native address of a direct buffer's first byte; compute it once per buffer, not per packet. */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("TUN I/O needs a direct buffer");
        }
        return Pointer.nativeValue(com.sun.jna.Native.getDirectBufferPointer(direct));
    }

    /**
     * Reads one packet into native memory at address (up to capacity bytes). Returns the packet length, or EMPTY when
     * none is queued.
     *
     * @throws IOException when the device is gone or closed
     */
    public int read(long address, int capacity) throws IOException {
        while (true) {
            long n = LibC.read(fd, address, capacity);
            if (n >= 0) {
                return (int) n;
            }
            int errno = LibC.errno();
            if (errno == LibC.EAGAIN) {
                return EMPTY;
            }
            if (errno != LibC.EINTR) {
                throw error("read from " + name, errno);
            }
        }
    }

    /** Writes one packet from native memory at address. Returns false if the kernel's queue was full (dropped). */
    public boolean write(long address, int length) throws IOException {
        while (true) {
            long n = LibC.write(fd, address, length);
            if (n >= 0) {
                return true;
            }
            int errno = LibC.errno();
            if (errno == LibC.EAGAIN) {
                return false;
            }
            if (errno != LibC.EINTR) {
                throw error("write to " + name, errno);
            }
        }
    }

    /**
     * Blocks until a packet can be read or timeoutMillis pass (-1: no limit). True if readable. A vanished device
     * reports readable, so the following read throws.
     */
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        int n = LibC.poll(Pointer.nativeValue(pollFd), 1, timeoutMillis);
        if (n < 0) {
            int errno = LibC.errno();
            if (errno == LibC.EINTR) {
                return false;
            }
            throw error("poll " + name, errno);
        }
        return n > 0;
    }

    public int mtu() throws IOException {
        return (int) interfaceIoctl(LibC.SIOCGIFMTU, 0, false);
    }

    public void setMtu(int mtu) throws IOException {
        interfaceIoctl(LibC.SIOCSIFMTU, mtu, true);
    }

    /** The interface index, as `ip link` shows it. */
    public int index() throws IOException {
        return (int) interfaceIoctl(LibC.SIOCGIFINDEX, 0, false);
    }

    /** SIOC[GS]IF* on a throw-away socket: these act on the interface by name, not on the TUN descriptor. */
    private long interfaceIoctl(long request, int value, boolean set) throws IOException {
        int sock = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, 0);
        if (sock < 0) {
            throw error("socket", LibC.errno());
        }
        try (Memory ifr = new Memory(IFREQ_SIZE)) {
            ifr.clear();
            byte[] encoded = name.getBytes(StandardCharsets.US_ASCII);
            ifr.write(0, encoded, 0, encoded.length);
            if (set) {
                ifr.setInt(IFR_DATA, value);
            }
            if (LibC.ioctl(sock, request, Pointer.nativeValue(ifr)) < 0) {
                throw error("ioctl on " + name, LibC.errno());
            }
            return ifr.getInt(IFR_DATA);
        } finally {
            LibC.close(sock);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes the descriptor; the kernel then removes the interface (it is not persistent). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }

    private static IOException error(String what, int errno) {
        return new IOException(what + ": " + LibC.strerror(errno) + " (errno " + errno + ")");
    }
}
