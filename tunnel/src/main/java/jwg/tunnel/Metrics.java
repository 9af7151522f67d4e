package jwg.tunnel;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jwg.noise.Drop;
import jwg.noise.Key;
import jwg.roaming.HostPort;

/**
 * Prometheus metrics of one interface, through the Prometheus Java client, served at http://LISTEN/metrics when
 * JWG_METRICS names LISTEN ("PORT" alone listens on loopback; "HOST:PORT" or "[V6]:PORT" where asked):
 * <pre>
 *   wireguard_latest_handshake_seconds{interface,public_key}   when the last handshake completed (Unix time; 0: never)
 *   wireguard_sent_bytes_total{interface,public_key}           as wg show's transfer
 *   wireguard_received_bytes_total{interface,public_key}
 *   jwg_handshake_rtt_seconds{interface,public_key}            the last handshake this side initiated (probes too)
 *   jwg_endpoint_changes_total{interface,public_key,reason}    reason: packet (an authenticated packet came from a
 *                                                              new address: roaming, ours or the peer's) or wg (set)
 *   jwg_dns_failures_total{interface,public_key}               failed resolutions of a followed host name
 *   jwg_packets_dropped_total{interface,reason}                as jwg drops prints them
 * </pre>
 * The first three keep the names of the common WireGuard exporters, so their dashboards work. Peers are labelled by
 * public key, never by endpoint address, which would make a series per address a peer ever had.
 *
 * <p>Scraped values are read from the device when Prometheus asks (callbacks), so the packet path pays nothing; the
 * two fed by events (endpoint changes, handshake RTTs) are updated by the threads that see them, under the client's
 * own concurrency. The HTTP server has one thread of its own. Nothing here is loaded unless JWG_METRICS is set.
 */
final class Metrics implements AutoCloseable {
    private final String ifname;
    private final HTTPServer server;
    private final ExecutorService thread;
    private final Counter endpointChanges;
    private final Gauge handshakeRtt;

    private Metrics(Device device, Roaming roaming, String listen) throws IOException {
        this.ifname = device.name();
        PrometheusRegistry registry = new PrometheusRegistry();
        GaugeWithCallback.builder().name("wireguard_latest_handshake_seconds")
                .help("When the peer's last handshake completed, Unix time in seconds; 0 if never")
                .labelNames("interface", "public_key")
                .callback(cb -> device.peers().forEach(p -> cb.call(p.lastHandshakeEpochNanos() / 1e9, ifname,
                        p.publicKey.toBase64())))
                .register(registry);
        CounterWithCallback.builder().name("wireguard_sent_bytes").help("Bytes sent to the peer")
                .labelNames("interface", "public_key")
                .callback(cb -> device.peers().forEach(p -> cb.call(p.txBytes(), ifname, p.publicKey.toBase64())))
                .register(registry);
        CounterWithCallback.builder().name("wireguard_received_bytes").help("Bytes received from the peer")
                .labelNames("interface", "public_key")
                .callback(cb -> device.peers().forEach(p -> cb.call(p.rxBytes(), ifname, p.publicKey.toBase64())))
                .register(registry);
        CounterWithCallback.builder().name("jwg_dns_failures").help("Failed resolutions of the peer's host name")
                .labelNames("interface", "public_key")
                .callback(cb -> roaming.forEachDnsFailures((peer, n) -> cb.call(n, ifname, peer.toBase64())))
                .register(registry);
        CounterWithCallback.builder().name("jwg_packets_dropped").help("Packets dropped, by reason (jwg drops)")
                .labelNames("interface", "reason")
                .callback(cb -> {
                    for (Map.Entry<Drop, Long> e : device.drops().nonZero().entrySet()) {
                        cb.call(e.getValue(), ifname, e.getKey().name().toLowerCase(Locale.ROOT));
                    }
                })
                .register(registry);
        this.endpointChanges = Counter.builder().name("jwg_endpoint_changes")
                .help("Changes of the peer's endpoint: reason packet (an authenticated packet from a new address) or"
                        + " wg (set through the UAPI)")
                .labelNames("interface", "public_key", "reason")
                .register(registry);
        this.handshakeRtt = Gauge.builder().name("jwg_handshake_rtt_seconds")
                .help("Round trip of the last handshake this side initiated with the peer, roaming's probes included")
                .labelNames("interface", "public_key")
                .register(registry);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jwg-metrics");
            t.setDaemon(true);
            return t;
        });
        HTTPServer.Builder b = HTTPServer.builder().registry(registry).executorService(thread);
        String[] where = listenAddress(listen);
        try {
            this.server = b.hostname(where[0]).port(Integer.parseInt(where[1])).buildAndStart();
        } catch (IOException e) {
            thread.shutdownNow();
            throw new IOException("JWG_METRICS=" + listen + ": " + e.getMessage(), e);
        }
    }

    /** Serves the device's metrics at listen (JWG_METRICS); fails with the reason if it cannot. */
    static Metrics start(Device device, Roaming roaming, String listen) throws IOException {
        return new Metrics(device, roaming, listen);
    }

    /** {host, port} of JWG_METRICS: a bare port means loopback. */
    static String[] listenAddress(String listen) {
        if (listen.matches("[0-9]{1,5}")) {
            int port = Integer.parseInt(listen);
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("JWG_METRICS: port " + listen + " is out of range");
            }
            return new String[] {"127.0.0.1", listen};
        }
        try {
            HostPort hp = HostPort.parse(listen);
            return new String[] {hp.host(), Integer.toString(hp.port())};
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("JWG_METRICS: " + e.getMessage() + " (PORT, HOST:PORT or [V6]:PORT)");
        }
    }

    int port() {
        return server.getPort();
    }

    /** An endpoint change of peer; reasonText as the hook gets it. */
    void endpointChanged(Key peer, String reasonText) {
        String reason = Peer.SET_BY_WG.equals(reasonText) ? "wg" : "packet";
        endpointChanges.labelValues(ifname, peer.toBase64(), reason).inc();
    }

    void handshakeRtt(Key peer, long rttNanos) {
        if (rttNanos >= 0) {
            handshakeRtt.labelValues(ifname, peer.toBase64()).set(rttNanos / 1e9);
        }
    }

    /** The peer is gone: its event-fed series go with it (the callbacks stop listing it by themselves). */
    void peerRemoved(Key peer) {
        String key = peer.toBase64();
        endpointChanges.remove(ifname, key, "wg");
        endpointChanges.remove(ifname, key, "packet");
        handshakeRtt.remove(ifname, key);
    }

    @Override
    public void close() {
        server.close();
        thread.shutdownNow();
    }
}
