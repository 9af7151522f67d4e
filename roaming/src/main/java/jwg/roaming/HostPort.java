package jwg.roaming;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An endpoint as configured: "host:port" or "[v6]:port", the host a name or a literal. */
public record HostPort(String host, int port) {
    /** Parses "host:port" / "[addr]:port"; throws IllegalArgumentException with the reason. */
    public static HostPort parse(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected [address]:port, got '" + text + "'");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException("expected host:port, got '" + text + "'");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 1 || p > 65535 || host.isEmpty()) {
            throw new IllegalArgumentException("bad port or host in '" + text + "'");
        }
        HostPort hp = new HostPort(host, p);
        if (!hp.isName()) {
            hp.literal(); // throws for a malformed address, which would otherwise be looked up as a name
        }
        return hp;
    }

    /** The host as an address, when it is a literal (not {@link #isName}); never asks DNS. */
    public InetAddress literal() {
        boolean v4 = host.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]"
                + "|[1-9]?[0-9])){3}");
        if (!v4 && host.indexOf(':') < 0) {
            throw new IllegalArgumentException("'" + host + "' is not an IPv4 address");
        }
        try {
            return InetAddress.getByName(host); // a literal: parsed, never resolved
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + host + "' is not an IP address");
        }
    }

    /** Whether the host is a name (something to resolve) rather than an IP literal. */
    public boolean isName() {
        return host.indexOf(':') < 0 && !host.matches("[0-9.]+");
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
