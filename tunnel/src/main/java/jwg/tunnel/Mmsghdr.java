package jwg.tunnel;

/**
 * The layout of struct mmsghdr as sendmmsg(2) and recvmmsg(2) read and write it on x86-64 and arm64 Linux: a msghdr
 * { name, namelen, iov, iovlen, control, controllen, flags } and the message's length, 64 bytes; with the iovec and
 * the socket address it points to. {@link SendBatch} and {@link ReceiveBatch} lay their native blocks out with it.
 */
final class Mmsghdr {
    static final int SIZE = 64;
    static final int NAME = 0;
    static final int NAMELEN = 8;
    static final int IOV = 16;
    static final int IOVLEN = 24;
    static final int CONTROL = 32;
    static final int CONTROLLEN = 40;
    static final int FLAGS = 48;
    static final int LEN = 56;
    /** struct iovec: base, length. */
    static final int IOVEC = 16;
    /** struct sockaddr_in6, which also holds a sockaddr_in. */
    static final int SOCKADDR = 28;

    private Mmsghdr() {}
}
