package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import jwg.noise.Secret;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the UAPI socket's side of a connection: any bytes, read through {@link UapiReader} as a
 * connection's operations (get, set, jwg's own), against a configured device without a TUN, as {@link UapiTest}
 * builds one. Whatever the bytes:
 * <ul>
 * <li>nothing but an operation line too long to read ends the conversation with an exception;</li>
 * <li>every reply ends in an errno `wg` knows what to do with: 0, or on a set -EIO, -EINVAL or -EPROTO;</li>
 * <li>an operation that is refused, and every get, leaves the configuration exactly as it was (the get dump before
 *     and after it are equal), and a get prints the configuration as it is;</li>
 * <li>a set that succeeds leaves a configuration that, printed by get and written back by set (as
 *     `wg showconf | wg setconf` does), is the same again.</li>
 * </ul>
 *
 * <p>The device stays off the network: an input that names a listen_port or fwmark value (a bind to a port the fuzzer
 * picks could take one another process on this machine needs) or turns on a persistent keepalive in a request that
 * also names an endpoint (a handshake sent to an address the fuzzer picks) is not run. UapiTest covers those keys.
 *
 * <p>The kept inputs are in src/test/resources/jwg/tunnel/UapiFuzzTestInputs/; without JAZZER_FUZZ, `mvn test` runs
 * them as a regression test; bin/fuzz fuzzes. The fuzzer's inputs stay under libFuzzer's default 4 KiB, so a line
 * over {@link UapiReader#MAX_LINE} is left to UapiReaderTest: a kept input that long made every mutation cost 70 KB.
 */
class UapiFuzzTest {
    static final String PRIVATE = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
    static final String PEER = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";
    static final String PEER2 = "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376";
    static final String PSK = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52";
    /** What every input starts from: a private key and two peers, without endpoints (see the class comment). */
    static final String BASELINE = "private_key=" + PRIVATE + "\npublic_key=" + PEER + "\npreshared_key=" + PSK
            + "\nallowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\npublic_key=" + PEER2
            + "\nallowed_ip=192.0.2.0/24\n\n";
    private static final Pattern BINDS = Pattern.compile("(listen_port|fwmark)=[0-9]");
    private static final Pattern KEEPALIVE_ON = Pattern.compile("persistent_keepalive_interval=0*[1-9]");
    private static final Set<String> ERRNOS = Set.of("0", "-5", "-22", "-71");
    /** get's keys that set refuses: counters and times, and the port (the round trip does not rebind). */
    private static final Set<String> READ_ONLY = Set.of("listen_port", "last_handshake_time_sec",
            "last_handshake_time_nsec", "tx_bytes", "rx_bytes", "errno");

    private static Device device;
    private static Uapi uapi;
    private static UapiServer server;
    private static String baseline;

    @BeforeAll
    static void setUp() throws Exception {
        device = new Device("fuzz0", null, new Log(Log.Level.SILENT, "fuzz0", System.err), () -> { });
        device.bind(0, 0);
        uapi = new Uapi(device, null);
        server = new UapiServer("fuzz0", uapi, new Log(Log.Level.SILENT, "fuzz0", System.err), () -> { });
        reset(BASELINE);
        baseline = dump();
    }

    @AfterAll
    static void tearDown() {
        device.close();
    }

    @FuzzTest
    void anyRequestIsAnsweredWithAKnownErrnoAndARefusedOneChangesNothing(byte[] request) throws Exception {
        String latin1 = new String(request, StandardCharsets.ISO_8859_1);
        if (BINDS.matcher(latin1).find() || (KEEPALIVE_ON.matcher(latin1).find() && latin1.contains("endpoint="))) {
            return;
        }
        if (!dump().equals(baseline)) {
            reset(BASELINE);
            assertEquals(baseline, dump(), "the device is back where every input starts");
        }
        Replies replies = new Replies();
        try {
            server.converse(new UapiReader(new ByteArrayInputStream(request)), replies);
        } catch (UapiError e) {
            assertEquals(UapiError.EIO, e.errno, "the one error that ends a conversation: " + e.getMessage());
        }
        String before = baseline;
        List<String> setResults = new ArrayList<>();
        for (Replies.Reply r : replies.all) {
            if (check(r, before)) {
                setResults.add(r.dumpAfter());
            }
            before = r.dumpAfter();
        }
        assertEquals(before, dump(), "nothing changed after the last reply");
        for (String configured : setResults) {
            assertSameAfterRoundTrip(configured);
        }
    }

    /** Checks one reply given the configuration before it; true if it was a set that changed the configuration. */
    private static boolean check(Replies.Reply r, String before) {
        String text = r.text();
        assertTrue(text.endsWith("\n\n"), () -> "a reply ends with a blank line: " + text);
        List<String> lines = text.substring(0, text.length() - 2).lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("errno="), () -> "a reply ends with errno: " + text);
        String errno = last.substring("errno=".length());
        assertTrue(ERRNOS.contains(errno), () -> "errno " + errno + " in " + text);
        for (String line : lines) {
            assertTrue(line.matches("[a-z_0-9]+=[^\n]*"), () -> "a key=value line: " + line);
        }
        boolean changed = !r.dumpAfter().equals(before);
        if (lines.size() > 1) {
            // A get (or jwg's drops or roam state): errno 0, nothing changed, and a get prints what is.
            assertEquals("0", errno, text);
            assertEquals(before, r.dumpAfter(), () -> "a read changed the configuration: " + text);
            if (!text.equals(before)) {
                assertTrue(lines.stream().limit(lines.size() - 1).allMatch(l -> l.matches("[a-z0-9_]+=[0-9]+")),
                        () -> "neither the configuration nor a list of drop counts: " + text);
            }
        } else if (!errno.equals("0")) {
            assertEquals(before, r.dumpAfter(), () -> "a refused request (" + errno + ") changed the configuration");
        }
        return lines.size() == 1 && errno.equals("0") && changed;
    }

    /** The dump as the set that recreates it, applied to an empty device, must print the same dump again. */
    private static void assertSameAfterRoundTrip(String dumped) throws Exception {
        String set = dumped.lines().filter(l -> !l.isEmpty() && !READ_ONLY.contains(l.substring(0, l.indexOf('='))))
                .collect(Collectors.joining("\n", "", "\n\n"));
        reset(set);
        String again = dump();
        reset(BASELINE);
        assertEquals(peerBlocks(dumped), peerBlocks(again), () -> "set of\n" + set + "printed\n" + again);
    }

    /** The dump's device lines, then each peer's lines, peers sorted: the device lists peers in no fixed order. */
    private static List<String> peerBlocks(String dump) {
        List<String> blocks = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dump.lines().toList()) {
            if (line.startsWith("public_key=") || line.startsWith("errno=")) {
                blocks.add(current.toString());
                current.setLength(0);
            }
            current.append(line).append('\n');
        }
        blocks.add(current.toString());
        List<String> peers = new ArrayList<>(blocks.subList(1, blocks.size() - 1));
        peers.sort(null);
        List<String> out = new ArrayList<>();
        out.add(blocks.get(0));
        out.addAll(peers);
        out.add(blocks.get(blocks.size() - 1));
        return out;
    }

    /** An empty device (no key, no peers) given the set request body; which must succeed. */
    private static void reset(String set) throws Exception {
        synchronized (device) {
            device.removeAllPeers();
            device.setPrivateKey(Secret.zero());
        }
        uapi.set(UapiReader.of(set));
    }

    private static String dump() throws IOException {
        StringWriter out = new StringWriter();
        uapi.get(out);
        return out.toString();
    }

    /**
     * What the server writes, cut into replies where it flushes (it flushes once at the end of each reply), with the
     * configuration as it stood right after each.
     */
    private static final class Replies extends Writer {
        record Reply(String text, String dumpAfter) {}

        final List<Reply> all = new ArrayList<>();
        private final StringBuilder current = new StringBuilder();

        @Override
        public void write(char[] buf, int off, int len) {
            current.append(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (current.isEmpty()) {
                fail("a flush without a reply");
            }
            all.add(new Reply(current.toString(), dump()));
            current.setLength(0);
        }

        @Override
        public void close() {
        }
    }
}
