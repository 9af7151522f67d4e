package jwg.tunnel;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Numeric IP addresses as the UAPI carries them, parsed without ever touching DNS. IPv6 is parsed here rather than by
 * InetAddress, which turns an IPv4-mapped literal (::ffff:a.b.c.d) into an IPv4 address: wg sends those when a
 * config names one, and they must stay IPv6 (a /104 of them is an IPv6 prefix).
 */
final class IpLiteral {
    private static final Pattern HEX_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");

    private IpLiteral() {}

    /** The address s names, or null if s is not a numeric IPv4 or IPv6 address (an IPv6 one may have a %zone). */
    static InetAddress parse(String s) {
        try {
            long v4 = ipv4(s, 0, s.length());
            if (v4 >= 0) {
                return InetAddress.getByAddress(bytes((int) v4));
            }
            return s.indexOf(':') >= 0 ? v6(s) : null;
        } catch (UnknownHostException | SocketException | IllegalArgumentException e) {
            return null;
        }
    }

    static boolean isIpv4(String s) {
        return ipv4(s, 0, s.length()) >= 0;
    }

    /**
     * The IPv4 address in s[from, to) as an unsigned 32-bit value, or -1 if it is not exactly four dot-separated
     * decimal fields of 0-255, none with a leading zero (which some parsers read as octal). Hand-written rather than a
     * regular expression: a set of 100,000 allowed IPs parses one per line, and this is most of the line.
     */
    static long ipv4(CharSequence s, int from, int to) {
        long address = 0;
        int i = from;
        for (int field = 0; ; field++) {
            int start = i;
            int v = 0;
            while (i < to && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                v = v * 10 + (s.charAt(i++) - '0');
            }
            int digits = i - start;
            if (digits == 0 || v > 255 || (digits > 1 && s.charAt(start) == '0')) {
                return -1;
            }
            address = address << 8 | v;
            if (field == 3) {
                return i == to ? address : -1;
            }
            if (i == to || s.charAt(i) != '.') {
                return -1;
            }
            i++;
        }
    }

    private static byte[] bytes(int v4) {
        return new byte[] {(byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8), (byte) v4};
    }

    private static InetAddress v6(String s) throws UnknownHostException, SocketException {
        String zone = null;
        int pct = s.indexOf('%');
        if (pct >= 0) {
            zone = s.substring(pct + 1);
            s = s.substring(0, pct);
            if (zone.isEmpty()) {
                return null;
            }
        }
        byte[] b = new byte[16];
        int tailBytes = 0;
        byte[] tail = new byte[16];
        String head = s;
        String rest = null;
        int dbl = s.indexOf("::");
        if (dbl >= 0) {
            if (s.indexOf("::", dbl + 1) >= 0) {
                return null;
            }
            head = s.substring(0, dbl);
            rest = s.substring(dbl + 2);
        }
        int headBytes = groups(head, b, 0, rest == null);
        if (headBytes < 0) {
            return null;
        }
        if (rest != null) {
            tailBytes = groups(rest, tail, 0, true);
            if (tailBytes < 0 || headBytes + tailBytes > 14) {
                return null;
            }
            System.arraycopy(tail, 0, b, 16 - tailBytes, tailBytes);
        } else if (headBytes != 16) {
            return null;
        }
        if (zone == null) {
            return Inet6Address.getByAddress(null, b, -1);
        }
        if (zone.chars().allMatch(Character::isDigit)) {
            return Inet6Address.getByAddress(null, b, Integer.parseInt(zone));
        }
        NetworkInterface nif = NetworkInterface.getByName(zone);
        return nif == null ? null : Inet6Address.getByAddress(null, b, nif);
    }

    /**
     * Parses colon-separated hex groups (the last may be a dotted IPv4 address if ipv4TailAllowed) into out from off;
     * returns the bytes written, or -1.
     */
    private static int groups(String s, byte[] out, int off, boolean ipv4TailAllowed) {
        if (s.isEmpty()) {
            return 0;
        }
        String[] parts = s.split(":", -1);
        int n = off;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            long v4 = i == parts.length - 1 && ipv4TailAllowed ? ipv4(p, 0, p.length()) : -1;
            if (v4 >= 0) {
                if (n + 4 > 16) {
                    return -1;
                }
                System.arraycopy(bytes((int) v4), 0, out, n, 4);
                n += 4;
            } else if (HEX_GROUP.matcher(p).matches()) {
                if (n + 2 > 16) {
                    return -1;
                }
                int v = Integer.parseInt(p, 16);
                out[n++] = (byte) (v >> 8);
                out[n++] = (byte) v;
            } else {
                return -1;
            }
        }
        return n - off;
    }
}
