package jwg.tun;

/**
 * An independent, deliberately slow Internet checksum for the tests: one byte at a time, with the pseudo-header
 * spelled out field by field, so that it shares no code and no trick with {@link Checksum}.
 */
final class Naive {
    private Naive() {}

    /** Ones' complement sum of b[off, off+len) folded to 16 bits, starting from start. */
    static int sum(int start, byte[] b, int off, int len) {
        long s = start;
        for (int i = 0; i < len; i++) {
            int v = b[off + i] & 0xff;
            s += (i % 2 == 0) ? v << 8 : v;
            while (s > 0xffff) {
                s = (s & 0xffff) + (s >> 16);
            }
        }
        return (int) s;
    }

    /** Whether the IPv4 header at p[0, ihl) checks out (its words, checksum included, sum to 0xffff). */
    static boolean ipv4HeaderOk(byte[] p, int off) {
        int ihl = (p[off] & 0x0f) * 4;
        return sum(0, p, off, ihl) == 0xffff;
    }

    /** Whether the TCP or UDP checksum of the IP packet p[off, off+len) verifies against its pseudo-header. */
    static boolean transportOk(byte[] p, int off, int len) {
        int version = (p[off] & 0xff) >>> 4;
        int ipLen = version == 4 ? (p[off] & 0x0f) * 4 : 40;
        int proto = version == 4 ? p[off + 9] & 0xff : p[off + 6] & 0xff;
        int l4 = len - ipLen;
        return sum(pseudo(p, off, proto, l4), p, off + ipLen, l4) == 0xffff;
    }

    /** The folded pseudo-header sum for the IP packet at p[off...], built as a separate byte array. */
    static int pseudo(byte[] p, int off, int proto, int l4Len) {
        int version = (p[off] & 0xff) >>> 4;
        byte[] ph;
        if (version == 4) {
            ph = new byte[12];
            System.arraycopy(p, off + 12, ph, 0, 8);
            ph[9] = (byte) proto;
            ph[10] = (byte) (l4Len >> 8);
            ph[11] = (byte) l4Len;
        } else {
            ph = new byte[40];
            System.arraycopy(p, off + 8, ph, 0, 32);
            ph[32] = (byte) (l4Len >>> 24);
            ph[33] = (byte) (l4Len >> 16);
            ph[34] = (byte) (l4Len >> 8);
            ph[35] = (byte) l4Len;
            ph[39] = (byte) proto;
        }
        return sum(0, ph, 0, ph.length);
    }
}
