package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;

/**
 * A real DNS server for one namespace (the client): dnsmasq in a namespace of its own, CLIENTd, joined to the client
 * by a veth (dns0: client {@value #CLIENT_ADDRESS}, server {@value #ADDRESS}) and named in the client's
 * /etc/netns/CLIENT/resolv.conf, which {@code ip netns exec} mounts over /etc/resolv.conf: only processes started in the
 * client after the server was made use it. It answers from a hosts file ({@link #serve}) with a fixed TTL, and logs
 * every query ({@link #queries}); an iptables rule counts them even while it is stopped ({@link #queriesReceived}).
 * It can be stopped and started again, like a DNS server that goes away. Needs dnsmasq and iptables.
 */
final class DnsServer implements AutoCloseable {
    static final String ADDRESS = "10.53.0.53";
    static final String CLIENT_ADDRESS = "10.53.0.1";

    final Netns ns;
    final int ttlSeconds;
    private final Path dir;
    private final Path hosts;
    private final Path log;
    private final Path pidFile;
    private long pid;

    /** The server's namespace and link, and the client's resolv.conf; dnsmasq runs from {@link #start}. */
    DnsServer(Netns client, int ttlSeconds) {
        this.ttlSeconds = ttlSeconds;
        this.ns = new Netns(client.name + "d");
        try {
            dir = Files.createTempDirectory("jwg-dns");
            hosts = dir.resolve("hosts");
            log = dir.resolve("queries.log");
            pidFile = dir.resolve("dnsmasq.pid");
            Files.writeString(hosts, "");
            Shell.run("ip", "link", "add", "dns0", "netns", client.name, "type", "veth", "peer", "name", "dns0",
                    "netns", ns.name).orFail("veth to the DNS server");
            client.exec("ip", "addr", "add", CLIENT_ADDRESS + "/24", "dev", "dns0").orFail("client address");
            client.exec("ip", "link", "set", "dns0", "up").orFail("client link up");
            ns.exec("ip", "addr", "add", ADDRESS + "/24", "dev", "dns0").orFail("server address");
            ns.exec("ip", "link", "set", "dns0", "up").orFail("server link up");
            client.etcFile("resolv.conf", "nameserver " + ADDRESS + "\n");
            // Counts what arrives on port 53 whether dnsmasq runs or not (queries to a stopped server too).
            ns.exec("iptables", "-A", "INPUT", "-p", "udp", "--dport", "53").orFail("iptables query counter");
        } catch (IOException e) {
            ns.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | AssertionError e) {
            ns.close();
            throw e;
        }
    }

    /**
     * Serves name with exactly these addresses (IPv4 and IPv6 literals: A and AAAA records; none: no record). If the
     * server runs, returns once it has re-read them.
     */
    void serve(String name, String... addresses) {
        StringBuilder sb = new StringBuilder();
        for (String a : addresses) {
            sb.append(a).append(' ').append(name).append('\n');
        }
        try {
            Path tmp = dir.resolve("hosts.new");
            Files.writeString(tmp, sb);
            Files.move(tmp, hosts, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (running()) {
            int reads = count(Pattern.compile("read " + Pattern.quote(hosts.toString()) + " "));
            Shell.run("kill", "-HUP", Long.toString(pid)).orFail("SIGHUP to dnsmasq");
            if (!Shell.eventually(10, () -> count(Pattern.compile("read " + Pattern.quote(hosts.toString()) + " "))
                    > reads)) {
                throw new AssertionError("dnsmasq did not re-read " + hosts + " within 10 s:\n" + Shell.tail(log));
            }
        }
    }

    /** Starts dnsmasq; returns once it answers on port 53 (it daemonizes after binding). */
    void start() {
        if (running()) {
            return;
        }
        ns.exec("dnsmasq", "--port=53", "--listen-address=" + ADDRESS, "--bind-interfaces", "--no-resolv",
                "--no-hosts", "--addn-hosts=" + hosts, "--local-ttl=" + ttlSeconds, "--pid-file=" + pidFile,
                "--log-queries", "--log-facility=" + log, "--user=root").orFail("dnsmasq");
        try {
            pid = Long.parseLong(Files.readString(pidFile).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends dnsmasq (the DNS server goes away: queries to it get port unreachable). */
    void stop() {
        if (!running()) {
            return;
        }
        Shell.run("kill", Long.toString(pid));
        if (!Shell.eventually(10, () -> !running())) {
            Shell.run("kill", "-9", Long.toString(pid));
        }
        pid = 0;
    }

    boolean running() {
        return pid != 0 && Files.exists(Path.of("/proc", Long.toString(pid)));
    }

    /** How many queries of type (A, AAAA) for name the server has logged since it was made. */
    int queries(String name, String type) {
        return count(Pattern.compile("query\\[" + type + "\\] " + Pattern.quote(name) + " from "));
    }

    /** Every DNS query that reached the server's namespace (UDP to port 53), even while dnsmasq was stopped. */
    long queriesReceived() {
        String out = ns.exec("iptables", "-nvx", "-L", "INPUT").orFail("iptables counters").out();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (line.contains("udp dpt:53") && f.length > 0 && f[0].matches("\\d+")) {
                return Long.parseLong(f[0]);
            }
        }
        throw new AssertionError("no query counter in:\n" + out);
    }

    private int count(Pattern pattern) {
        try {
            if (!Files.exists(log)) {
                return 0;
            }
            return (int) Files.readAllLines(log).stream().filter(l -> pattern.matcher(l).find()).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The query log, for failure messages. */
    String logTail() {
        return Shell.tail(log);
    }

    /** Stops dnsmasq, deletes its namespace and files. The client's resolv.conf goes with the client's namespace. */
    @Override
    public void close() {
        stop();
        ns.close();
        Shell.run("rm", "-rf", dir.toString());
    }
}
