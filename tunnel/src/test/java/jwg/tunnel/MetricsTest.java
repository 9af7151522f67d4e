package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import jwg.noise.Key;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Prometheus endpoint of a device without a TUN, scraped over HTTP (interop's MetricsIT checks it with promtool). */
class MetricsTest {
    private static final String PEER = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";

    private Device device;
    private Roaming roaming;
    private Uapi uapi;
    private Metrics metrics;

    @BeforeEach
    void setUp() throws Exception {
        device = new Device("test0", null, new Log(Log.Level.SILENT, "test0", System.err), () -> { });
        device.bind(0, 0);
        roaming = new Roaming(device, Path.of("/nonexistent/jwg-metrics-test.conf"));
        uapi = new Uapi(device, roaming);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        metrics = Metrics.start(device, roaming, Integer.toString(port));
        device.setMetrics(metrics);
    }

    @AfterEach
    void tearDown() {
        roaming.close();
        device.close();
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    @Test
    void aPeersSeriesAreLabelledByItsKeyAndGoWithIt() throws Exception {
        String key = Key.fromHex(PEER).toBase64();
        uapi.set(UapiReader.of("public_key=" + PEER + "\nendpoint=192.0.2.1:51820\nallowed_ip=10.0.0.2/32\n\n"));
        uapi.set(UapiReader.of("public_key=" + PEER + "\nendpoint=192.0.2.9:51820\n\n"));
        String text = scrape();
        String labels = "{interface=\"test0\",public_key=\"" + key + "\"}";
        assertTrue(text.contains("wireguard_sent_bytes_total" + labels + " 0.0"), text);
        assertTrue(text.contains("wireguard_received_bytes_total" + labels + " 0.0"), text);
        assertTrue(text.contains("wireguard_latest_handshake_seconds" + labels + " 0.0"), text);
        assertTrue(text.contains("jwg_endpoint_changes_total{interface=\"test0\",public_key=\"" + key
                + "\",reason=\"wg\"} 2.0"), text);
        assertFalse(text.contains("192.0.2."), "no endpoint address in any label:\n" + text);

        uapi.set(UapiReader.of("public_key=" + PEER + "\nremove=true\n\n"));
        assertFalse(scrape().contains(key), "a removed peer's series are gone");
    }

    @Test
    void theListenAddressIsLoopbackUnlessAHostIsNamed() {
        assertArrayEquals(new String[] {"127.0.0.1", "9586"}, Metrics.listenAddress("9586"));
        assertArrayEquals(new String[] {"0.0.0.0", "9586"}, Metrics.listenAddress("0.0.0.0:9586"));
        assertArrayEquals(new String[] {"::1", "9586"}, Metrics.listenAddress("[::1]:9586"));
        for (String bad : new String[] {"99999", "host", ":1", "[::1]"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Metrics.listenAddress(bad), bad);
            assertTrue(e.getMessage().startsWith("JWG_METRICS: "), e.getMessage());
        }
    }
}
