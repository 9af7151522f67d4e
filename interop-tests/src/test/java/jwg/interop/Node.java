package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One host of a test topology: a namespace, its underlay addresses on the veth, and a WireGuard interface of some
 * implementation with its keys and inner (tunnel) addresses. Configured only through the stock wg and ip tools, as a
 * user would.
 */
final class Node {
    final Netns ns;
    final Implementation impl;
    final String ifname;
    final String privateKey;
    final String publicKey;
    final String underlay4;
    final String underlay6;
    final String inner4;
    final String inner6;
    final int port;

    Node(Netns ns, Implementation impl, String ifname, int index, int port) {
        this.ns = ns;
        this.impl = impl;
        this.ifname = ifname;
        this.privateKey = Shell.run("wg", "genkey").orFail("wg genkey").out().trim();
        this.publicKey = Shell.sh("echo " + privateKey + " | wg pubkey").orFail("wg pubkey").out().trim();
        this.underlay4 = "10.99.0." + index;
        this.underlay6 = "fd99::" + index;
        this.inner4 = "10.100.0." + index;
        this.inner6 = "fd00::" + index;
        this.port = port;
    }

    /** Starts the implementation and gives the interface its key, port and inner addresses. */
    void up() {
        impl.start(ns, ifname);
        wg("set", ifname, "private-key", keyFile(privateKey), "listen-port", Integer.toString(port))
                .orFail("wg set private-key on " + impl.name());
        ns.exec("ip", "addr", "add", inner4 + "/24", "dev", ifname).orFail("inner IPv4");
        ns.exec("ip", "addr", "add", inner6 + "/64", "dev", ifname).orFail("inner IPv6");
        ns.exec("ip", "link", "set", ifname, "up").orFail("link up");
    }

    /** Adds other as a peer, reachable at its underlay address of the given family; psk may be null. */
    void addPeer(Node other, boolean ipv6Underlay, String psk) {
        String endpoint = ipv6Underlay ? "[" + other.underlay6 + "]:" + other.port : other.underlay4 + ":" + other.port;
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("wg", "set", ifname, "peer",
                other.publicKey, "allowed-ips", other.inner4 + "/32," + other.inner6 + "/128", "endpoint", endpoint));
        if (psk != null) {
            cmd.add("preshared-key");
            cmd.add(keyFile(psk));
        }
        wg(cmd.subList(1, cmd.size()).toArray(String[]::new)).orFail("wg set peer on " + impl.name());
    }

    Shell.Result wg(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "wg";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return ns.exec(cmd);
    }

    /** ping -c count to address; true if every reply came back. */
    boolean ping(String address, int count) {
        return ns.exec(30, "ping", "-c", Integer.toString(count), "-i", "0.2", "-W", "3", address).exit() == 0;
    }

    /** Whether the daemon behind ifname still runs (its UAPI socket answers). */
    boolean alive() {
        return wg("show", ifname).exit() == 0;
    }

    static String keyFile(String key) {
        try {
            Path f = Files.createTempFile("jwg-key", ".key", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.writeString(f, key + "\n");
            f.toFile().deleteOnExit();
            return f.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return impl.name() + "@" + ns.name;
    }
}
