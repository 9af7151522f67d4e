package jwg.roaming;

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
        return new HostPort(host, p);
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
