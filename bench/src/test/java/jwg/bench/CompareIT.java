package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the end-to-end harness working: runs {@code bench/compare --short} as a real process (both implementations,
 * every measurement, one short round) and checks that results.json holds every figure for both with sane values.
 * The figures themselves are not judged: CI machines differ, and a regression is for people to read in the table.
 */
class CompareIT {
    /** Every figure of the table; each must have at least one value per implementation. */
    private static final List<String> FIGURES = List.of("startup_ms", "first_packet_ms", "warm_handshake_ms",
            "latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_p999_us", "latency_max_us", "tcp1_ab_mbit",
            "tcp1_ba_mbit", "tcp4_ab_mbit", "tcp4_ba_mbit", "udp_pps", "handshakes_per_s", "mac1_drop_pps",
            "cpu_s_per_gb", "rss_idle_mib", "rss_load_mib", "rss_peers_mib", "peers_config_ms");
    private static final List<String> IMPLEMENTATIONS = List.of("jwg", "wireguard-go");
    private static final long LIMIT_MINUTES = 5;

    private static Path module;

    @BeforeAll
    static void machine() {
        module = Harness.require("compare", "wg", "wireguard-go", "iperf3", "python3", "ss");
    }

    @Test
    void shortModeMeasuresEveryFigureForBothImplementations() throws Exception {
        Path out = module.resolve("target/compare-short");
        Map<String, Object> results = run(out);
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> figures = (Map<String, Map<String, Object>>) results.get("figures");
        for (String figure : FIGURES) {
            for (String impl : IMPLEMENTATIONS) {
                double median = median(figures, figure, impl);
                assertTrue(median > 0, figure + " of " + impl + " is " + median + ", not > 0");
            }
        }
        for (String impl : IMPLEMENTATIONS) {
            double p50 = median(figures, "latency_p50_us", impl);
            double p90 = median(figures, "latency_p90_us", impl);
            double p99 = median(figures, "latency_p99_us", impl);
            double p999 = median(figures, "latency_p999_us", impl);
            double max = median(figures, "latency_max_us", impl);
            assertTrue(p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max,
                    impl + ": percentiles out of order: " + p50 + " " + p90 + " " + p99 + " " + p999 + " " + max);
            assertTrue(median(figures, "tcp1_ab_mbit", impl) < 1_000_000, impl + ": TCP faster than 1 Tbit/s");
            assertTrue(median(figures, "rss_idle_mib", impl) < 4096, impl + ": RSS idle over 4 GiB");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) results.get("machine");
        assertEquals(aeadFlags(), machine.get("cpu_flags"), "the CPU flags recorded");
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| figure | jwg (median) | wireguard-go (median) | jwg / wireguard-go |"), md);
        assertTrue(md.contains("How noisy the machine was."), md);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> run(Path out) throws IOException, InterruptedException {
        return (Map<String, Object>) Harness.run(module, "compare", out, LIMIT_MINUTES, "--short");
    }

    /** The flags compare records, read here from /proc/cpuinfo's first flags line, in its order. */
    private static String aeadFlags() throws IOException {
        List<String> wanted = List.of("avx2", "avx512f", "avx512ifma", "avx_ifma");
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) {
                return String.join(" ", Arrays.stream(line.substring(line.indexOf(':') + 1).trim().split("\\s+"))
                        .filter(wanted::contains).toList());
            }
        }
        return "";
    }

    private static double median(Map<String, Map<String, Object>> figures, String figure, String impl) {
        Map<String, Object> f = figures.get(figure);
        assertTrue(f != null, "results.json has no figure " + figure);
        @SuppressWarnings("unchecked")
        Map<String, Object> s = (Map<String, Object>) f.get(impl);
        assertTrue(s != null && s.get("median") instanceof Double, figure + ": no value for " + impl);
        return (Double) s.get("median");
    }
}
