package jwg.tunnel;

import java.io.IOException;
import java.io.Writer;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jwg.noise.Drop;
import jwg.noise.Key;
import jwg.noise.Secret;
import jwg.roaming.Addresses;
import jwg.roaming.Endpoints;
import jwg.roaming.HostPort;

/**
 * The cross-platform userspace API (wireguard.com/xplatform) as the stock wg and wg-quick speak it: "get=1" and
 * "set=1" operations of key=value lines ending in a blank line, answered with errno=N.
 *
 * <p>Unlike wireguard-go, a set is parsed and validated whole before anything is applied, so a request that fails
 * changes nothing; then it is applied under the device's lock. Errors carry the errno wg expects (negative on set).
 */
final class Uapi {
    private final Device device;
    private final Roaming roaming;

    Uapi(Device device, Roaming roaming) {
        this.device = device;
        this.roaming = roaming;
    }

    /** jwg's own operation "jwg_roam=1": the roaming state, as `jwg roam IF` prints it. */
    void roamState(Writer out) throws IOException {
        out.write(roaming == null ? "" : roaming.describe());
        out.write("errno=0\n\n");
        out.flush();
    }

    /**
     * jwg's own operation "jwg_drops=1": a line REASON=COUNT for every reason the device dropped packets for since it
     * started, as `jwg drops IF` prints them.
     */
    void drops(Writer out) throws IOException {
        for (Map.Entry<Drop, Long> e : device.drops().nonZero().entrySet()) {
            line(out, e.getKey().name().toLowerCase(Locale.ROOT), Long.toString(e.getValue()));
        }
        out.write("errno=0\n\n");
        out.flush();
    }

    // ---- get ----

    /**
     * The get reply body, in wireguard-go's key order, ending with errno=0 and the blank line. Written straight to
     * the connection's writer (no string of the whole reply), the keys' hex digits a character at a time.
     */
    void get(Writer out) throws IOException {
        synchronized (device) {
            Secret priv = device.privateKey();
            if (!priv.isZero()) {
                out.write("private_key=");
                priv.appendHex(out);
                out.write('\n');
            }
            if (device.udp().port() != 0) {
                line(out, "listen_port", Integer.toString(device.udp().port()));
            }
            if (device.udp().fwmark() != 0) {
                line(out, "fwmark", Integer.toUnsignedString(device.udp().fwmark()));
            }
            Map<Peer, List<AllowedIps.Prefix>> allowed = device.allowedIps().entriesByValue();
            for (Peer p : device.peers()) {
                line(out, "public_key", p.publicKey.toHex());
                out.write("preshared_key=");
                p.appendPresharedKeyHex(out);
                out.write('\n');
                line(out, "protocol_version", "1");
                if (p.endpoint() != null) {
                    line(out, "endpoint", formatEndpoint(p.endpoint()));
                }
                long hs = p.lastHandshakeEpochNanos();
                line(out, "last_handshake_time_sec", Long.toString(hs / 1_000_000_000L));
                line(out, "last_handshake_time_nsec", Long.toString(hs % 1_000_000_000L));
                line(out, "tx_bytes", Long.toString(p.txBytes()));
                line(out, "rx_bytes", Long.toString(p.rxBytes()));
                line(out, "persistent_keepalive_interval", Integer.toString(p.persistentKeepalive()));
                for (AllowedIps.Prefix prefix : allowed.getOrDefault(p, List.of())) {
                    out.write("allowed_ip=");
                    out.write(formatAddress(prefix.address()));
                    out.write('/');
                    out.write(Integer.toString(prefix.cidr()));
                    out.write('\n');
                }
            }
        }
        out.write("errno=0\n\n");
        out.flush();
    }

    private static void line(Writer out, String key, String value) throws IOException {
        out.write(key);
        out.write('=');
        out.write(value);
        out.write('\n');
    }

    // ---- set ----

    /**
     * Reads a set request's lines up to and including the blank line that ends it, and parses them. On the first bad
     * line (or one too long to read) the rest of the request is still read, so the client's writes do not fail and
     * the next request starts where it should, then the error is thrown.
     */
    static UapiChange parse(UapiReader in) throws IOException, UapiError {
        UapiChange change = new UapiChange();
        try {
            parseInto(in, change);
            return change;
        } catch (IOException | UapiError | RuntimeException e) {
            change.wipe();
            throw e;
        }
    }

    /** A whole set: parsed, applied, and its secrets wiped, applied or refused. */
    void set(UapiReader in) throws IOException, UapiError {
        UapiChange change = parse(in);
        try {
            apply(change);
        } finally {
            change.wipe();
        }
    }

    private static void parseInto(UapiReader in, UapiChange change) throws IOException, UapiError {
        UapiError error = null;
        while (true) {
            String line;
            try {
                line = in.readSetLine();
            } catch (UapiError e) {
                error = error != null ? error : e;
                continue;
            }
            if (line == null) {
                // Cut off before its blank line: the client went away mid-request, and half a request (half of what
                // replace_peers was to put back, say) is not what it asked for. Nothing is applied.
                throw new UapiError(UapiError.EIO, "the request ended without its blank line; nothing was applied");
            }
            if (line.isEmpty()) {
                break;
            }
            if (error != null) {
                continue;
            }
            try {
                parseLine(change, line, in);
            } catch (UapiError e) {
                error = e;
            }
        }
        if (error != null) {
            throw error;
        }
    }

    private static final String ALLOWED_IP = "allowed_ip=";

    private static void parseLine(UapiChange change, String line, UapiReader in) throws UapiError {
        UapiChange.PeerChange peer = change.peers.isEmpty() ? null : change.peers.get(change.peers.size() - 1);
        if (peer != null && line.startsWith(ALLOWED_IP)) {
            // Most lines of a big set: no key and value strings for them.
            peer.allowedIps.add(parseAllowedIp(line, ALLOWED_IP.length()));
            return;
        }
        int eq = line.indexOf('=');
        if (eq < 0) {
            throw new UapiError(UapiError.EPROTO, "line without '=': " + line);
        }
        String key = line.substring(0, eq);
        String value = line.substring(eq + 1);
        if (key.equals("public_key")) {
            change.peers.add(new UapiChange.PeerChange(hexKey(key, value)));
            return;
        }
        if (peer == null) {
            switch (key) {
                case "private_key" -> change.privateKey = replacing(change.privateKey, in.takeSecret(key));
                case "listen_port" -> change.listenPort = (int) number(key, value, 0xffff);
                case "fwmark" -> change.fwmark = (int) number(key, value, 0xffffffffL);
                case "replace_peers" -> change.replacePeers = literalTrue(key, value);
                default -> throw new UapiError(UapiError.EINVAL, "invalid UAPI device key: " + key);
            }
            return;
        }
        switch (key) {
            case "remove" -> peer.remove = literalTrue(key, value);
            case "update_only" -> peer.updateOnly = literalTrue(key, value);
            case "preshared_key" -> peer.presharedKey = replacing(peer.presharedKey, in.takeSecret(key));
            case "endpoint" -> peer.endpoint = parseEndpoint(value);
            case "persistent_keepalive_interval" -> peer.persistentKeepalive = (int) number(key, value, 0xffff);
            case "replace_allowed_ips" -> peer.replaceAllowedIps = literalTrue(key, value);
            case "jwg_endpoint_host" -> {
                if (!value.isEmpty()) {
                    try {
                        Endpoints.parse(value);
                    } catch (IllegalArgumentException e) {
                        throw new UapiError(UapiError.EINVAL, "invalid jwg_endpoint_host: " + e.getMessage());
                    }
                }
                peer.endpointHost = value;
            }
            case "jwg_failback_after" -> {
                long seconds = number(key, value, Endpoints.MAX_FAILBACK_AFTER_SECONDS);
                if (seconds < Endpoints.MIN_FAILBACK_AFTER_SECONDS) {
                    throw new UapiError(UapiError.EINVAL, "invalid jwg_failback_after: at least "
                            + Endpoints.MIN_FAILBACK_AFTER_SECONDS + " s");
                }
                peer.failbackAfterSeconds = seconds;
            }
            case "protocol_version" -> {
                if (!value.equals("1")) {
                    throw new UapiError(UapiError.EINVAL, "invalid protocol version: " + value);
                }
            }
            default -> throw new UapiError(UapiError.EINVAL, "invalid UAPI peer key: " + key);
        }
    }

    /**
     * Applies a validated change. Binding a new port comes first because it is the only step that can still fail
     * (EADDRINUSE); once it succeeded, nothing else can.
     */
    void apply(UapiChange c) throws UapiError {
        synchronized (device) {
            if (roaming != null) {
                roaming.configuring();
            }
            if (c.listenPort != null || c.fwmark != null) {
                int port = c.listenPort != null ? c.listenPort : device.udp().port();
                int mark = c.fwmark != null ? c.fwmark : device.udp().fwmark();
                try {
                    device.bind(port, mark);
                } catch (IOException e) {
                    throw new UapiError(UapiError.EADDRINUSE, e.getMessage());
                }
            }
            if (c.privateKey != null) {
                device.setPrivateKey(c.privateKey);
            }
            if (c.replacePeers) {
                device.removeAllPeers();
            }
            List<Peer> startKeepalive = new ArrayList<>();
            List<Routed> routed = new ArrayList<>();
            for (UapiChange.PeerChange pc : c.peers) {
                Peer p = applyPeer(pc, startKeepalive);
                if (p != null) {
                    routed.add(new Routed(p, pc));
                }
            }
            applyAllowedIps(routed);
            long now = device.now();
            startKeepalive.forEach(p -> p.sendKeepaliveNow(now));
            if (roaming != null) {
                roaming.configured(c);
            }
        }
    }

    /** Applies one peer's part of a set but its allowed IPs; returns the peer, or null if it is gone or skipped. */
    private Peer applyPeer(UapiChange.PeerChange pc, List<Peer> startKeepalive) {
        if (device.identity() != null && pc.publicKey.equals(device.identity().publicKey())) {
            return null;
        }
        Peer peer = device.peer(pc.publicKey);
        if (pc.remove) {
            if (peer != null) {
                device.removePeer(peer);
            }
            return null;
        }
        if (peer == null) {
            if (pc.updateOnly) {
                return null;
            }
            peer = device.addPeer(pc.publicKey);
            device.log().verbose(peer + ": created");
        }
        if (pc.presharedKey != null) {
            peer.setPresharedKey(pc.presharedKey);
        }
        if (pc.endpoint != null) {
            peer.setEndpoint(pc.endpoint);
        }
        if (pc.persistentKeepalive != null && peer.setPersistentKeepalive(pc.persistentKeepalive)) {
            // Switched on: the first keepalive goes now (after the whole set, which may also name the endpoint).
            startKeepalive.add(peer);
        }
        return peer;
    }

    /** A peer of a set, and its part of it. */
    private record Routed(Peer peer, UapiChange.PeerChange change) {}

    /**
     * The allowed IPs of a whole set in one edit: packets see the table as before the set or after it, never a peer's
     * emptied by replace_allowed_ips and half refilled. The entries of every peer replacing its own are removed first,
     * in one walk of the table, and then the lines applied in order: that ends where applying each replacement at
     * its place would, because a replacement only ever removes its own peer's entries, which no earlier line of the
     * set can have given it, unless the set names that peer twice (wg never does; then each replacement goes at its
     * place, a walk each).
     */
    private void applyAllowedIps(List<Routed> routed) {
        Set<Peer> replaced = new HashSet<>();
        Set<Peer> seen = new HashSet<>();
        boolean twice = false;
        for (Routed r : routed) {
            twice |= !seen.add(r.peer());
            if (r.change().replaceAllowedIps) {
                replaced.add(r.peer());
            }
        }
        boolean inPlace = twice;
        device.allowedIps().edit(e -> {
            if (!inPlace) {
                e.removeAll(replaced);
            }
            for (Routed r : routed) {
                if (inPlace && r.change().replaceAllowedIps) {
                    e.removeAll(r.peer());
                }
                for (UapiChange.AllowedIp a : r.change().allowedIps) {
                    if (a.remove()) {
                        e.remove(a.entry(), r.peer());
                    } else {
                        e.insert(a.entry(), r.peer());
                    }
                }
            }
        });
    }

    // ---- values ----

    private static Key hexKey(String key, String value) throws UapiError {
        try {
            return Key.fromHex(value);
        } catch (IllegalArgumentException e) {
            throw new UapiError(UapiError.EINVAL, "invalid " + key);
        }
    }

    /** A key given twice in one set: the later one counts, and the earlier one is wiped. */
    private static Secret replacing(Secret earlier, Secret later) {
        if (earlier != null) {
            earlier.wipe();
        }
        return later;
    }

    private static long number(String key, String value, long max) throws UapiError {
        return number(key, value, 0, value.length(), max);
    }

    /** The decimal number s[from, to): digits only, at most 10 of them, no more than max. */
    private static long number(String key, String s, int from, int to, long max) throws UapiError {
        long v = 0;
        boolean digits = from < to && to - from <= 10;
        for (int i = from; digits && i < to; i++) {
            char c = s.charAt(i);
            digits = c >= '0' && c <= '9';
            v = v * 10 + (c - '0');
        }
        if (!digits) {
            throw new UapiError(UapiError.EINVAL, "invalid " + key + ": " + s.substring(from, to));
        }
        if (v > max) {
            throw new UapiError(UapiError.EINVAL, key + " out of range: " + s.substring(from, to));
        }
        return v;
    }

    private static boolean literalTrue(String key, String value) throws UapiError {
        if (!value.equals("true")) {
            throw new UapiError(UapiError.EINVAL, "invalid " + key + ": " + value + " (only 'true' is accepted)");
        }
        return true;
    }

    /** "a.b.c.d:port" or "[v6]:port", numeric only: the daemon never resolves names (wg does, before it asks). */
    static InetSocketAddress parseEndpoint(String value) throws UapiError {
        String host;
        String port;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0 || close + 1 >= value.length() || value.charAt(close + 1) != ':') {
                throw new UapiError(UapiError.EINVAL, "invalid endpoint: " + value);
            }
            host = value.substring(1, close);
            port = value.substring(close + 2);
        } else {
            int colon = value.lastIndexOf(':');
            if (colon < 0) {
                throw new UapiError(UapiError.EINVAL, "invalid endpoint: " + value);
            }
            host = value.substring(0, colon);
            port = value.substring(colon + 1);
            if (!IpLiteral.isIpv4(host)) {
                throw new UapiError(UapiError.EINVAL, "invalid endpoint: " + value);
            }
        }
        InetAddress address = IpLiteral.parse(host);
        if (address == null) {
            throw new UapiError(UapiError.EINVAL, "invalid endpoint: " + value);
        }
        return new InetSocketAddress(address, (int) number("endpoint port", port, 0xffff));
    }

    /**
     * An allowed_ip line's value from start: "ip/cidr", or "-ip/cidr" to remove one entry (wireguard-tools since
     * 2025). Read in place, and an IPv4 prefix goes straight to the trie's form without an InetAddress: a set may
     * carry 100,000 of them.
     */
    static UapiChange.AllowedIp parseAllowedIp(String line, int start) throws UapiError {
        boolean remove = line.startsWith("-", start);
        int from = remove ? start + 1 : start;
        int slash = line.indexOf('/', from);
        if (slash < 0) {
            throw new UapiError(UapiError.EINVAL, "invalid allowed_ip: " + line.substring(start));
        }
        long v4 = IpLiteral.ipv4(line, from, slash);
        if (v4 >= 0) {
            int cidr = (int) number("allowed_ip prefix length", line, slash + 1, line.length(), 32);
            return new UapiChange.AllowedIp(new AllowedIps.Entry(v4 << 32, 0, cidr, true), remove);
        }
        String host = line.substring(from, slash);
        InetAddress address = host.indexOf('%') < 0 ? IpLiteral.parse(host) : null;
        if (!(address instanceof Inet6Address)) {
            throw new UapiError(UapiError.EINVAL, "invalid allowed_ip: " + line.substring(start));
        }
        int cidr = (int) number("allowed_ip prefix length", line, slash + 1, line.length(), 128);
        return new UapiChange.AllowedIp(AllowedIps.Entry.of(address, cidr), remove);
    }

    static String formatEndpoint(InetSocketAddress e) {
        return Addresses.format(e);
    }

    static String formatAddress(InetAddress a) {
        return Addresses.format(a);
    }
}
