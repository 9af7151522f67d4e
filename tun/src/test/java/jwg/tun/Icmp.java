package jwg.tun;

import java.nio.ByteBuffer;

/** Builds an ICMP echo reply to an IPv4 echo request, as a test peer behind a TUN device would. */
final class Icmp {
    private Icmp() {}

    /** Writes the reply to request into out (from 0) and returns its length. */
    static int echoReply(byte[] request, ByteBuffer out) {
        byte[] p = request.clone();
        int ihl = (p[0] & 0x0f) * 4;
        for (int i = 0; i < 4; i++) {
            byte t = p[12 + i];
            p[12 + i] = p[16 + i];
            p[16 + i] = t;
        }
        p[ihl] = 0;
        p[ihl + 2] = 0;
        p[ihl + 3] = 0;
        int sum = checksum(p, ihl, p.length - ihl);
        p[ihl + 2] = (byte) (sum >> 8);
        p[ihl + 3] = (byte) sum;
        p[10] = 0;
        p[11] = 0;
        sum = checksum(p, 0, ihl);
        p[10] = (byte) (sum >> 8);
        p[11] = (byte) sum;
        out.put(0, p);
        return p.length;
    }

    static int checksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }
}
