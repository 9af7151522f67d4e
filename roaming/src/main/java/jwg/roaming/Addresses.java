package jwg.roaming;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Addresses as people and the stock tools write them: IPv6 in RFC 5952's short form (what Go, iproute2 and wg print),
 * IPv4-mapped addresses as ::ffff:a.b.c.d. Java's own getHostAddress() writes every zero group and a scope of %0.
 */
public final class Addresses {
    private Addresses() {}

    /** "a.b.c.d:port" or "[v6]:port", the address as {@link #format(InetAddress)} writes it. */
    public static String format(InetSocketAddress e) {
        if (e == null) {
            return "(none)";
        }
        InetAddress a = e.getAddress();
        return a instanceof Inet6Address ? "[" + format(a) + "]:" + e.getPort()
                : format(a) + ":" + e.getPort();
    }

    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    /** IPv6 in the RFC 5952 form (longest zero run compressed, lower case), as Go and iproute2 print it. */
    public static String format(InetAddress a) {
        if (!(a instanceof Inet6Address v6)) {
            return a.getHostAddress();
        }
        byte[] b = v6.getAddress();
        if (isIpv4Mapped(b)) {
            return "::ffff:" + (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
        }
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && w[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(w[i]));
        }
        String zone = v6.getScopeId() != 0 || v6.getScopedInterface() != null
                ? "%" + (v6.getScopedInterface() != null ? v6.getScopedInterface().getName() : v6.getScopeId()) : "";
        return sb + zone;
    }
}
