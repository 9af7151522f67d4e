package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A flood of handshake initiations that pass mac1 (anyone who knows the responder's public key can compute it) makes
 * the responder go under load (§5.4.7): it then answers initiations without a valid mac2 with cookie replies instead
 * of doing DH work, answers nothing else, and its tunnel keeps working. b is the target; with b = wireguard-go or the
 * kernel the test is a control (the kernel goes under load at 512 queued initiations, and under TCG it queues
 * quickly). The flood comes from a's namespace, so a is never the guest.
 */
class UnderLoadIT {
    /** Sends initiations with random content and a valid mac1 for the responder, then counts replies by type. */
    private static final String FLOOD = """
            import base64, hashlib, os, socket, struct, sys, time
            target = (sys.argv[1], int(sys.argv[2]))
            mac1_key = hashlib.blake2s(b"mac1----" + base64.b64decode(sys.argv[3])).digest()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            replies = {}
            def drain():
                while True:
                    try:
                        data, _ = s.recvfrom(65536)
                    except (BlockingIOError, InterruptedError):
                        return
                    key = (data[0] if data else -1, len(data))
                    replies[key] = replies.get(key, 0) + 1
            sent = 0
            for i in range(int(sys.argv[4])):
                body = bytes([1, 0, 0, 0]) + struct.pack("<I", i) + os.urandom(108)
                msg = body + hashlib.blake2s(body, key=mac1_key, digest_size=16).digest() + bytes(16)
                try:
                    s.sendto(msg, target); sent += 1
                except BlockingIOError:
                    time.sleep(0.001)
                if i % 64 == 0:
                    drain()
            deadline = time.time() + 2.0
            while time.time() < deadline:
                drain(); time.sleep(0.01)
            print("sent", sent, "replies", " ".join(f"type{t}/len{n}={c}" for (t, n), c in sorted(replies.items())))
            """;
    private static final Pattern COOKIES = Pattern.compile("type3/len64=(\\d+)");

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("python3");
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("under load: b answers a flood of initiations with cookie replies only")
    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource({"jwg.interop.Pair#pairings", "jwg.interop.Pair#kernelAsB"})
    void aFloodOfInitiationsIsAnsweredOnlyWithCookieRepliesAndTheTunnelSurvives(Implementation a, Implementation b) {
        try (Pair p = Pair.of(a, b)) {
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply before the flood");

            Shell.Result flood = p.a.ns.exec(120, "python3", "-c", FLOOD, p.b.underlay4, Integer.toString(p.b.port),
                    p.b.publicKey, "20000");
            String out = flood.out().trim();

            Matcher cookies = COOKIES.matcher(out);
            assertTrue(cookies.find() && Integer.parseInt(cookies.group(1)) > 0,
                    p + ": no cookie replies, so b never went under load: " + out);
            assertTrue(out.replaceAll("type3/len64=\\d+", "").matches("sent \\d+ replies\\s*"),
                    p + ": b answered the flood with something other than cookie replies: " + out);
            assertTrue(p.b.alive(), p + ": b's daemon no longer answers on its UAPI socket");
            assertTrue(p.a.awaitPing(p.b.inner4, 30), p + ": no ping reply from b after the flood");
        }
    }
}
