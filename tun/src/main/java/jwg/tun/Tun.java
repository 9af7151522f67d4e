package jwg.tun;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN device (IFF_TUN | IFF_NO_PI): one IP packet per read or write, no packet-information prefix.
 *
 * <p>With offloads ({@link #create(String, boolean)}), the device is opened with IFF_VNET_HDR: every read and write
 * then starts with a {@link VirtioHeader} of {@link #VNET_HDR_LEN} bytes, and the kernel may hand over a TCP or UDP
 * "super-packet" of up to 64 KB to be segmented here, and accepts one to be segmented there. Which offloads the
 * kernel took is in {@link #offloads()}; one it refuses is left off, and the rest still work.
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
    /**
     * The C library as JNA should open it, for every JNA binding of jwg: by its file name (glibc's; Netty's epoll
     * library needs glibc too). Given the bare name "c", JNA first tries libc.so, which only the C development files
     * provide, and then runs `ldconfig -p` in a child process to find the real one: measured here, ~100 ms of every
     * daemon's start.
     */
    public static final String C_LIBRARY = "libc.so.6";

    /** {@link #read} result: no packet queued right now. */
    public static final int EMPTY = -1;

    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final int IFR_DATA = 16;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    /** The virtio_net_hdr without the mergeable-buffers field: what TUNSETVNETHDRSZ is told. */
    public static final int VNET_HDR_LEN = 10;
    /** TUNSETOFFLOAD flags (linux/if_tun.h). */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_USO4 = 0x20;
    public static final int TUN_F_USO6 = 0x40;

    private final String name;
    private final int fd;
    private final boolean vnetHdr;
    private final int offloads;
    private final Memory pollFd = new Memory(8);
    private volatile boolean closed;

    private Tun(String name, int fd, boolean vnetHdr, int offloads) {
        this.name = name;
        this.fd = fd;
        this.vnetHdr = vnetHdr;
        this.offloads = offloads;
        pollFd.setInt(0, fd);
        pollFd.setShort(4, LibC.POLLIN);
    }

    /**
     * Creates the TUN interface name (or attaches to an existing non-persistent one of that name that nobody holds).
     * A name with "%d" lets the kernel pick the number; {@link #name()} says which it picked.
     */
    public static Tun create(String name) throws IOException {
        return create(name, false);
    }

    /**
     * As {@link #create(String)}; with offloads, opened with IFF_VNET_HDR and as many of checksum, TSO4/6 and USO4/6
     * offloads as the kernel accepts (USO needs Linux 6.2). A kernel that refuses the header altogether gets a plain
     * device: {@link #hasVnetHeader()} says which it is.
     */
    public static Tun create(String name, boolean offloads) throws IOException {
        if (offloads) {
            try {
                return open(name, true);
            } catch (IOException refused) {
                // An old kernel or a restricted container: the plain device still works, packet by packet.
            }
        }
        return open(name, false);
    }

    /**
     * A stand-in for a TUN device that touches no interface and needs no privilege: the two ends of a SOCK_SEQPACKET
     * socket pair, which keep packet boundaries (one read or write per packet) and poll alike. [0] is the device's
     * end, claiming the given virtio header and offloads; [1] is the kernel's, on which a caller writes what the
     * device shall read (with the header when there is one) and reads what it wrote. For running the packet path in
     * jwg's training run (and tests); {@link #mtu()} and the other interface ioctls fail on it.
     */
    public static Tun[] pair(String name, boolean vnetHdr, int offloads) throws IOException {
        int[] sv = new int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, sv) < 0) {
            throw error("socketpair", LibC.errno());
        }
        return new Tun[] {new Tun(name, sv[0], vnetHdr, vnetHdr ? offloads : 0),
                new Tun(name + "-kernel", sv[1], vnetHdr, vnetHdr ? offloads : 0)};
    }

    private static Tun open(String name, boolean vnetHdr) throws IOException {
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
            ifr.setShort(IFR_DATA, (short) (IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0)));
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
            String created = ifr.getString(0, "US-ASCII");
            int accepted = 0;
            if (vnetHdr) {
                accepted = negotiateOffloads(fd, ifr);
                if (accepted < 0) {
                    int errno = -accepted;
                    LibC.close(fd);
                    throw error("set the virtio header size of " + name, errno);
                }
            }
            return new Tun(created, fd, vnetHdr, accepted);
        }
    }

    /**
     * Sets the header size, then asks for every offload and steps down while the kernel says no: USO first (newest),
     * then segmentation altogether, keeping checksum offload. Returns the flags accepted, or -errno. scratch (4 bytes
     * or more) is overwritten.
     */
    private static int negotiateOffloads(int fd, Memory scratch) {
        scratch.setInt(0, VNET_HDR_LEN);
        if (LibC.ioctl(fd, LibC.TUNSETVNETHDRSZ, Pointer.nativeValue(scratch)) < 0) {
            return -LibC.errno();
        }
        int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        for (int flags : new int[] {tso | TUN_F_USO4 | TUN_F_USO6, tso, TUN_F_CSUM, 0}) {
            if (LibC.ioctl(fd, LibC.TUNSETOFFLOAD, flags) == 0) {
                return flags;
            }
        }
        return 0;
    }

    /** Whether every read and write carries a {@link #VNET_HDR_LEN}-byte virtio header. */
    public boolean hasVnetHeader() {
        return vnetHdr;
    }

    /** The TUN_F_* offloads the kernel accepted (0 without the virtio header). */
    public int offloads() {
        return offloads;
    }

    /** The accepted offloads in words, for the log. */
    public String describeOffloads() {
        if (!vnetHdr) {
            return "none (no virtio header)";
        }
        StringBuilder s = new StringBuilder();
        String[] names = {"csum", "tso4", "tso6", "uso4", "uso6"};
        int[] flags = {TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_USO4, TUN_F_USO6};
        for (int i = 0; i < flags.length; i++) {
            if ((offloads & flags[i]) != 0) {
                s.append(s.length() == 0 ? "" : " ").append(names[i]);
            }
        }
        return s.length() == 0 ? "none (refused by the kernel)" : s.toString();
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
