package jwg.interop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One host of a test topology: a namespace, its underlay addresses on the veth, and a WireGuard interface of some
 * implementation with its keys and inner (tunnel) addresses. Configured only through the stock wg and ip tools, as a
 * user would. The interface and the node's commands live on {@link #host}: the namespace itself, or for the kernel's
 * WireGuard on a machine without it, a QEMU guest on the far side of the namespace's veth.
 */
final class Node {
    /** The namespace that holds this node's end of the veth (the guest's namespace for a guest node). */
    final Netns ns;
    /** Where the WireGuard interface lives and wg, ping and the node's other commands run. */
    final Host host;
    final Implementation impl;
    final String ifname;
    final String privateKey;
    final String publicKey;
    final String underlay4;
    final String underlay6;
    final String inner4;
    final String inner6;
    final int port;
    /** The underlay device on host: the namespace's end of the veth, or the guest's eth0. */
    final String veth;

    Node(Netns ns, Host host, Implementation impl, String ifname, String veth, int index, int port) {
        this.ns = ns;
        this.host = host;
        this.veth = veth;
        this.impl = impl;
        this.ifname = ifname;
        this.privateKey = genkey();
        this.publicKey = pubkey(privateKey);
        this.underlay4 = "10.99.0." + index;
        this.underlay6 = "fd99::" + index;
        this.inner4 = "10.100.0." + index;
        this.inner6 = "fd00::" + index;
        this.port = port;
    }

    /** Starts the implementation and gives the interface its key, port and inner addresses. */
    void up() {
        if (impl.isKernel()) {
            host.exec("ip", "link", "add", ifname, "type", "wireguard").orFail("ip link add type wireguard");
        } else {
            impl.start(ns, ifname);
        }
        setKeyAndPort();
        host.exec("ip", "addr", "add", inner4 + "/24", "dev", ifname).orFail("inner IPv4");
        host.exec("ip", "addr", "add", inner6 + "/64", "dev", ifname).orFail("inner IPv6");
        host.exec("ip", "link", "set", ifname, "up").orFail("link up");
    }

    /**
     * Gives the interface its private key and listen port through wg. For a userspace daemon, wg's answer is also
     * the sign that it has finished starting (wireguard-go's launcher returns before its background child has found
     * its device), so a failure carries the daemon's log.
     */
    void setKeyAndPort() {
        Shell.Result r = wg("set", ifname, "private-key", host.keyFile(privateKey), "listen-port",
                Integer.toString(port));
        if (r.exit() != 0) {
            String log = impl.isKernel() ? ""
                    : "\n" + impl.name() + "'s log:\n" + Shell.tail(Implementation.logFile(ifname));
            r.orFail("wg set private-key on " + impl.name() + log);
        }
    }

    /** Adds other as a peer, reachable at its underlay address of the given family; psk may be null. */
    void addPeer(Node other, boolean ipv6Underlay, String psk) {
        String endpoint = ipv6Underlay ? "[" + other.underlay6 + "]:" + other.port : other.underlay4 + ":" + other.port;
        List<String> cmd = new ArrayList<>(List.of("wg", "set", ifname, "peer",
                other.publicKey, "allowed-ips", other.inner4 + "/32," + other.inner6 + "/128", "endpoint", endpoint));
        if (psk != null) {
            cmd.add("preshared-key");
            cmd.add(host.keyFile(psk));
        }
        wg(cmd.subList(1, cmd.size()).toArray(String[]::new)).orFail("wg set peer on " + impl.name());
    }

    Shell.Result wg(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "wg";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return host.exec(cmd);
    }

    /** ping -c count to address; true if a reply came back (ping's exit status). */
    boolean ping(String address, int count) {
        return host.exec(30, "ping", "-c", Integer.toString(count), "-i", "0.2", "-W", "3", address).exit() == 0;
    }

    /** Pings address once a second until a reply comes back (true) or seconds have passed (false). */
    boolean awaitPing(String address, int seconds) {
        return host.exec(seconds + 10, "ping", "-c", "1", "-w", Integer.toString(seconds), address).exit() == 0;
    }

    /** The size and SHA-256 (hex) of bytes sent or received over TCP. */
    record Digest(long bytes, String sha256) {
        /** From the two lines that {@code wc -c; sha256sum} print. */
        static Digest parse(Shell.Result result, String what) {
            String[] fields = result.orFail(what).out().trim().split("\\s+");
            if (fields.length < 2 || !fields[0].matches("\\d+")) {
                throw new AssertionError(what + ": no byte count and SHA-256 in: " + result.out());
            }
            return new Digest(Long.parseLong(fields[0]), fields[1]);
        }
    }

    /**
     * Starts accepting one TCP connection on port; the returned command ends once the sender closed it, printing the
     * byte count and SHA-256 of what arrived (see {@link Digest#parse}).
     */
    Shell.Background receiveTcp(int port) {
        return host.spawnSh("f=$(mktemp) && " + host.tcpReceiveCommand(port) + " > $f && wc -c < $f && sha256sum < $f;"
                + " s=$?; rm -f $f; exit $s");
    }

    /** Whether a socket listens on TCP port (from /proc/net/tcp and tcp6, which busybox's guest has as well). */
    boolean listensOnTcp(int port) {
        return host.sh(String.format("grep -qiE ':%04X [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6", port))
                .exit() == 0;
    }

    /** Sends megabytes of random data to address:port over TCP and returns their size and SHA-256. */
    Digest sendRandomTcp(String address, int port, int megabytes, int timeoutSeconds) {
        return Digest.parse(host.sh("f=$(mktemp) && head -c " + megabytes * 1048576 + " /dev/urandom > $f"
                + " && wc -c < $f && sha256sum < $f && " + host.tcpSendCommand(address, port) + " < $f;"
                + " s=$?; rm -f $f; exit $s", timeoutSeconds), "send " + megabytes + " MB from " + this);
    }

    /** The output of {@code wg show IFNAME what} (e.g. endpoints, transfer); fails the test if wg fails. */
    String show(String what) {
        return wg("show", ifname, what).orFail("wg show " + ifname + " " + what + " on " + impl.name()).out();
    }

    /** peer's columns in {@code wg show IFNAME what} (the line's fields after the public key), or null if absent. */
    String[] showPeer(String what, Node peer) {
        for (String line : show(what).split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields[0].equals(peer.publicKey)) {
                return Arrays.copyOfRange(fields, 1, fields.length);
            }
        }
        return null;
    }

    /** Unix time of the latest handshake with peer (wg show latest-handshakes), 0 if none. */
    long latestHandshakeWith(Node peer) {
        String[] f = showPeer("latest-handshakes", peer);
        return f == null ? 0 : Long.parseLong(f[0]);
    }

    /** Bytes received from peer (wg show transfer). */
    long rxBytesFrom(Node peer) {
        String[] f = showPeer("transfer", peer);
        return f == null ? 0 : Long.parseLong(f[0]);
    }

    /** peer's endpoint as wg show endpoints prints it ("(none)" if unset). */
    String endpointOf(Node peer) {
        String[] f = showPeer("endpoints", peer);
        return f == null ? null : f[0];
    }

    /** A counter of the WireGuard interface, from /sys/class/net/IFNAME/statistics (e.g. rx_packets). */
    long interfaceCounter(String counter) {
        return Long.parseLong(host.exec("cat", "/sys/class/net/" + ifname + "/statistics/" + counter)
                .orFail(counter + " of " + ifname).out().trim());
    }

    /** The UAPI socket of ifname. */
    Path socket() {
        return Path.of("/var/run/wireguard", ifname + ".sock");
    }

    /**
     * One raw UAPI operation on the daemon's socket (request as sent, e.g. "get=1\n\n"); returns the reply up to and
     * including the blank line that ends it (or whatever came before the daemon closed the connection).
     */
    String uapi(String request) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket()))) {
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (!endsWithErrno(reply.toString(StandardCharsets.UTF_8))) {
                buf.clear();
                if (ch.read(buf) < 0) {
                    break;
                }
                reply.write(buf.array(), 0, buf.position());
            }
            return reply.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean endsWithErrno(String reply) {
        return reply.endsWith("\n\n") && reply.substring(0, reply.length() - 1).lines()
                .reduce((first, second) -> second).orElse("").startsWith("errno=");
    }

    /** The resident memory of the daemon that listens on the UAPI socket, in KiB (from ss and /proc). */
    long rssKib() {
        String status = host.sh("grep VmRSS /proc/" + daemonPid() + "/status").orFail("VmRSS").out();
        return Long.parseLong(status.replaceAll("[^0-9]", ""));
    }

    /** The process id of the daemon that listens on the UAPI socket (from ss, in the node's namespace). */
    long daemonPid() {
        String listing = host.sh("ss -xlpn | grep -F '" + socket() + "'").orFail("ss -xlp").out();
        Matcher m = Pattern.compile("pid=(\\d+)").matcher(listing);
        if (!m.find()) {
            throw new AssertionError("no process listens on " + socket() + ": " + listing);
        }
        return Long.parseLong(m.group(1));
    }

    /** Whether the daemon behind ifname still runs (its UAPI socket answers). */
    boolean alive() {
        return wg("show", ifname).exit() == 0;
    }


    /**
     * Runs the stock {@code wg-quick action config} in the node's namespace (config: a file IFNAME.conf, or an
     * interface name for /etc/wireguard/IFNAME.conf) with the node's implementation as
     * WG_QUICK_USERSPACE_IMPLEMENTATION, LOG_LEVEL=verbose and env (NAME=VALUE) for the daemon; wg-quick's and the
     * daemon's output go to the interface's log.
     */
    Shell.Result wgQuick(String action, String config, String... env) {
        List<String> cmd = new ArrayList<>(List.of("env",
                "WG_QUICK_USERSPACE_IMPLEMENTATION=" + impl.command().get(0), "LOG_LEVEL=verbose"));
        cmd.addAll(List.of(env));
        cmd.addAll(List.of("wg-quick", action, config));
        return ns.execLogged(Implementation.logFile(ifname), 60, cmd.toArray(String[]::new));
    }

    /**
     * Puts the node behind a stateful firewall, as a NAT would: UDP to its WireGuard port passes only in flows the
     * node started (conntrack), so a peer that changed address can no longer reach it first; the node must find the
     * peer. Needs iptables and ip6tables.
     */
    void behindStatefulFirewall() {
        for (String tool : new String[] {"iptables", "ip6tables"}) {
            ns.exec(tool, "-A", "INPUT", "-p", "udp", "--dport", Integer.toString(port), "-m", "conntrack",
                    "--ctstate", "NEW", "-j", "DROP").orFail(tool + " stateful firewall on " + this);
        }
    }

    /** A new private key (wg genkey), base64. */
    static String genkey() {
        return Shell.run("wg", "genkey").orFail("wg genkey").out().trim();
    }

    /** A new preshared key (wg genpsk), base64. */
    static String genpsk() {
        return Shell.run("wg", "genpsk").orFail("wg genpsk").out().trim();
    }

    /** The public key of a base64 private key (wg pubkey). */
    static String pubkey(String privateKey) {
        return Shell.sh("echo " + privateKey + " | wg pubkey").orFail("wg pubkey").out().trim();
    }

    /** A base64 key in the lowercase hex that UAPI speaks. */
    static String hex(String base64Key) {
        return HexFormat.of().formatHex(Base64.getDecoder().decode(base64Key));
    }

    /**
     * A file holding key (mode 600), for wg's key arguments. In a directory of this JVM's own (KeyFiles), removed when
     * it exits, or by the next test JVM if this one was killed: deleteOnExit alone left them in /tmp after every
     * interrupted run (87 after one).
     */
    static String keyFile(String key) {
        try {
            Path f = Files.createTempFile(KeyFiles.DIR, "key", ".key", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.writeString(f, key + "\n");
            f.toFile().deleteOnExit();
            return f.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The key files' directory: /tmp/jwg-interop-keys/PID, made at first use after removing those of dead JVMs. */
    private static final class KeyFiles {
        static final Path DIR = make();

        private static Path make() {
            Path root = Path.of(System.getProperty("java.io.tmpdir"), "jwg-interop-keys");
            try {
                Files.createDirectories(root);
                try (var dirs = Files.list(root)) {
                    for (Path d : (Iterable<Path>) dirs::iterator) {
                        String name = d.getFileName().toString();
                        if (name.chars().allMatch(Character::isDigit)
                                && ProcessHandle.of(Long.parseLong(name)).isEmpty()) {
                            removeTree(d);
                        }
                    }
                }
                Path dir = Files.createDirectories(root.resolve(Long.toString(ProcessHandle.current().pid())),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                dir.toFile().deleteOnExit(); // runs after the files' own deletions (registered later, run first)
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Best effort: a test JVM starting at the same moment may be removing the same directory. */
        private static void removeTree(Path dir) {
            try {
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                // Left for the next run.
            }
        }
    }

    @Override
    public String toString() {
        return impl.name() + "@" + ns.name;
    }
}
