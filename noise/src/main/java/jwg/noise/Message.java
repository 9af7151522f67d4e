package jwg.noise;

/**
 * The four WireGuard message layouts (§5.4): offsets, sizes and strict classification. Integers are little-endian;
 * every message starts with a type byte and three reserved zero bytes. Parsing never throws: a buffer that is not
 * exactly one valid message classifies as {@link #INVALID}.
 */
public final class Message {
    private Message() {}

    public static final int INVALID = 0;
    public static final int INITIATION = 1;
    public static final int RESPONSE = 2;
    public static final int COOKIE_REPLY = 3;
    public static final int TRANSPORT = 4;

    // Handshake initiation, 148 bytes.
    public static final int INITIATION_LEN = 148;
    public static final int INITIATION_SENDER = 4;
    public static final int INITIATION_EPHEMERAL = 8;
    public static final int INITIATION_STATIC = 40;
    public static final int INITIATION_TIMESTAMP = 88;
    public static final int INITIATION_MAC1 = 116;
    public static final int INITIATION_MAC2 = 132;

    // Handshake response, 92 bytes.
    public static final int RESPONSE_LEN = 92;
    public static final int RESPONSE_SENDER = 4;
    public static final int RESPONSE_RECEIVER = 8;
    public static final int RESPONSE_EPHEMERAL = 12;
    public static final int RESPONSE_EMPTY = 44;
    public static final int RESPONSE_MAC1 = 60;
    public static final int RESPONSE_MAC2 = 76;

    // Cookie reply, 64 bytes.
    public static final int COOKIE_REPLY_LEN = 64;
    public static final int COOKIE_REPLY_RECEIVER = 4;
    public static final int COOKIE_REPLY_NONCE = 8;
    public static final int COOKIE_REPLY_COOKIE = 32;

    // Transport data: 16-byte header, then the sealed packet with its tag.
    public static final int TRANSPORT_HEADER_LEN = 16;
    public static final int TRANSPORT_RECEIVER = 4;
    public static final int TRANSPORT_COUNTER = 8;
    public static final int TRANSPORT_MIN_LEN = TRANSPORT_HEADER_LEN + Aead.TAG_LEN;
    /** Plaintexts are zero-padded to a multiple of this (§5.4.6). */
    public static final int PADDING_MULTIPLE = 16;

    /**
     * The message type of buf[off, off+len), or INVALID unless the type byte is known, the reserved bytes are zero and
     * the length is exactly right for the type (transport: at least header plus tag).
     */
    public static int classify(byte[] buf, int off, int len) {
        if (!inBounds(buf, off, len) || len < 4) {
            return INVALID;
        }
        if (buf[off + 1] != 0 || buf[off + 2] != 0 || buf[off + 3] != 0) {
            return INVALID;
        }
        int type = buf[off];
        return switch (type) {
            case INITIATION -> len == INITIATION_LEN ? INITIATION : INVALID;
            case RESPONSE -> len == RESPONSE_LEN ? RESPONSE : INVALID;
            case COOKIE_REPLY -> len == COOKIE_REPLY_LEN ? COOKIE_REPLY : INVALID;
            case TRANSPORT -> len >= TRANSPORT_MIN_LEN ? TRANSPORT : INVALID;
            default -> INVALID;
        };
    }

    /** Whether [off, off+len) lies inside buf, computed so that no int overflow can fool it. */
    public static boolean inBounds(byte[] buf, int off, int len) {
        return off >= 0 && len >= 0 && len <= buf.length - off;
    }

    /** The length of the MAC-covered prefix ending at mac1 for a handshake message of this length. */
    public static int mac1Offset(int messageLen) {
        return messageLen - 2 * Blake2s.MAC_LEN;
    }

    public static int mac2Offset(int messageLen) {
        return messageLen - Blake2s.MAC_LEN;
    }

    public static void writeHeader(byte[] buf, int off, int type) {
        buf[off] = (byte) type;
        buf[off + 1] = 0;
        buf[off + 2] = 0;
        buf[off + 3] = 0;
    }

    public static int getInt(byte[] buf, int off) {
        return (buf[off] & 0xff) | (buf[off + 1] & 0xff) << 8 | (buf[off + 2] & 0xff) << 16
                | (buf[off + 3] & 0xff) << 24;
    }

    public static void putInt(byte[] buf, int off, int v) {
        buf[off] = (byte) v;
        buf[off + 1] = (byte) (v >>> 8);
        buf[off + 2] = (byte) (v >>> 16);
        buf[off + 3] = (byte) (v >>> 24);
    }

    public static long getLong(byte[] buf, int off) {
        return (getInt(buf, off) & 0xffffffffL) | ((long) getInt(buf, off + 4) << 32);
    }

    public static void putLong(byte[] buf, int off, long v) {
        putInt(buf, off, (int) v);
        putInt(buf, off + 4, (int) (v >>> 32));
    }
}
