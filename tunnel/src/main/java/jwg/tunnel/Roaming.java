package jwg.tunnel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import jwg.noise.Key;
import jwg.roaming.ConfigHosts;
import jwg.roaming.Decision;
import jwg.roaming.DnsResolver;
import jwg.roaming.Endpoints;
import jwg.roaming.ResolvedAddress;
import jwg.roaming.Resolver;
import jwg.roaming.Roamer;

/**
 * Wires roaming/ into the daemon: where endpoint lists come from (the interface's wg-quick config, named by
 * JWG_CONFIG or /etc/wireguard/IF.conf, re-read when it changes; and jwg roam, through the UAPI keys
 * jwg_endpoint_host and jwg_failback_after), the kernel's news of local network changes ({@link NetlinkWatch}, from
 * the first followed peer on, unless JWG_NETLINK=off), and the roamer's thread. Peers without a host name or list
 * are never touched.
 */
final class Roaming implements AutoCloseable {
    private final Device device;
    private final Path config;
    private final Roamer roamer;
    private final Log log;
    private final ScheduledExecutorService thread;
    private long configModified = -1;
    /** The kernel's news of local network changes, from the first followed peer on; null before, or if refused. */
    private NetlinkWatch netlink;
    private boolean netlinkTried;
    private Map<Key, Endpoints> configHosts = Map.of();

    Roaming(Device device, Path config) {
        this.device = device;
        this.config = config;
        this.log = device.log();
        this.thread = Device.prestarted(new ScheduledThreadPoolExecutor(1, Device.daemonThreads("jwg-roaming")));
        this.roamer = new Roamer(new DeviceTunnel(device), new LazyDns(), this::log, System::nanoTime, thread);
        device.setRoamingListener(roamer);
        roamer.start();
    }

    /** The config file for ifname: $JWG_CONFIG if set, else /etc/wireguard/IFNAME.conf. */
    static Path configFor(String ifname) {
        String env = System.getenv("JWG_CONFIG");
        return env != null && !env.isEmpty() ? Path.of(env) : Path.of("/etc/wireguard", ifname + ".conf");
    }

    /**
     * Before every UAPI set is applied (under the device's lock): the config file again if it changed, so that its
     * hook already hears of what the set does.
     */
    void configuring() {
        reloadConfigIfChanged();
    }

    /** After every UAPI set (under the device's lock): new peers pick up their host names; explicit ones win. */
    void configured(UapiChange change) {
        for (UapiChange.PeerChange pc : change.peers) {
            if (pc.endpointHost != null) {
                Endpoints e = pc.endpointHost.isEmpty() ? null : Endpoints.parse(pc.endpointHost);
                if (e != null && pc.failbackAfterSeconds != null) {
                    e = e.withFailbackAfter(pc.failbackAfterSeconds);
                }
                follow(pc.publicKey, e);
            } else if (roamer.endpoints(pc.publicKey) == null && configHosts.containsKey(pc.publicKey)) {
                follow(pc.publicKey, configHosts.get(pc.publicKey));
            }
        }
    }

    private void reloadConfigIfChanged() {
        try {
            long modified = Files.exists(config) ? Files.getLastModifiedTime(config).toMillis() : 0;
            if (modified == configModified) {
                return;
            }
            configModified = modified;
            Hooks hooks = device.hooks();
            if (modified == 0) {
                configHosts = Map.of();
                if (hooks != null) {
                    hooks.configured(null);
                }
                return;
            }
            ConfigHosts.Parsed parsed = ConfigHosts.read(config);
            parsed.problems().forEach(p -> device.log().error(p));
            configHosts = parsed.hosts();
            if (hooks != null) {
                hooks.configured(parsed.hook());
            }
            for (Map.Entry<Key, Endpoints> e : configHosts.entrySet()) {
                if (device.peer(e.getKey()) != null && roamer.endpoints(e.getKey()) == null) {
                    follow(e.getKey(), e.getValue());
                }
            }
        } catch (IOException | RuntimeException e) {
            device.log().error("reading " + config + ": " + e.getMessage());
        }
    }

    /** Gives a peer endpoints to follow (null: none); the first followed peer starts the netlink watch. */
    private void follow(Key peer, Endpoints endpoints) {
        roamer.setEndpoints(peer, endpoints);
        if (endpoints != null) {
            watchLocalNetwork();
        }
    }

    /**
     * Starts listening to the kernel's address, link and route events, once, when a first peer is followed: an
     * interface without roaming has no use for the thread and the socket. Under the device's lock.
     */
    private void watchLocalNetwork() {
        if (netlinkTried) {
            return;
        }
        netlinkTried = true;
        if ("off".equalsIgnoreCase(System.getenv("JWG_NETLINK"))) {
            log.info("JWG_NETLINK=off: not watching the local network; roaming reacts to unanswered traffic only");
            return;
        }
        int ownIndex = 0;
        try {
            ownIndex = Integer.parseInt(Files.readString(Path.of("/sys/class/net", device.name(), "ifindex")).strip());
        } catch (IOException | RuntimeException e) {
            // Unknown (a device without a kernel interface, as in the start-up training): nothing to ignore.
        }
        try {
            netlink = NetlinkWatch.start(ownIndex, roamer::localNetworkChanged);
        } catch (IOException | RuntimeException | LinkageError e) {
            log.error("not watching the local network for changes (roaming still reacts to unanswered traffic): "
                    + e.getMessage());
        }
    }

    /** A decision as a log line: text, or in the JSON form its event, the peer's public key and its facts as fields. */
    private void log(Decision d) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("event", d.event().jsonName());
        fields.put("peer", d.peer().toBase64());
        fields.putAll(d.facts());
        log.info("peer(" + d.peer().shortForm() + "): " + d.what(), fields);
    }

    /** Each followed peer's failed resolutions so far (metrics). */
    void forEachDnsFailures(java.util.function.ObjLongConsumer<Key> each) {
        roamer.forEachDnsFailures(each);
    }

    String describe() {
        return roamer.describe();
    }

    @Override
    public void close() {
        synchronized (device) {
            if (netlink != null) {
                netlink.close();
            }
        }
        thread.shutdownNow();
        roamer.close();
    }

    /** The DNS client (a thread and a socket) is made when a first name needs resolving: most interfaces have none. */
    private static final class LazyDns implements Resolver {
        private DnsResolver dns;

        @Override
        public synchronized CompletableFuture<List<ResolvedAddress>> resolve(String host) {
            if (dns == null) {
                dns = new DnsResolver();
            }
            return dns.resolve(host);
        }

        @Override
        public synchronized void close() {
            if (dns != null) {
                dns.close();
            }
        }
    }
}
