package jwg.tunnel;

/** A failed UAPI operation, carrying the errno that the stock wg expects (written negated on a set reply). */
final class UapiError extends Exception {
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int EPROTO = 71;
    static final int EADDRINUSE = 98;

    final int errno;

    UapiError(int errno, String message) {
        super(message);
        this.errno = errno;
    }
}
