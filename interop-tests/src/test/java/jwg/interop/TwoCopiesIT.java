package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What roaming's probes rely on, against wireguard-go itself: one initiation sent to two of b's addresses at once.
 * b checks an initiation's timestamp and records it in two separate steps (the kernel's code has the same two), so
 * two copies that reach two of its handshake workers together are sometimes both answered, and b keeps the session
 * of the answer it made last. jwg's handshake takes each answer to one initiation ({@link TwoCopies}, in a's
 * namespace, with a's key), and its peer sends on the last one taken (Peer.answeredAgain): this checks that b answers
 * twice at all, that jwg's handshake reads both answers, and that the session b kept is the later one, every time.
 * Run 2026-12-03 on 2 cores: 14 of 600 initiations answered twice, the later session kept in all 14.
 */
class TwoCopiesIT {
    private static final int INITIATIONS = 300;
    private static final FigureLog FIGURES = new FigureLog("TwoCopiesIT", "two-copies.txt");

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Test
    void wireguardGoAnswersTwoCopiesOfOneInitiationSometimesAndKeepsTheLaterSession() {
        try (Pair p = Pair.of(Implementation.wireguardGo(), Implementation.wireguardGo())) {
            String second = "10.99.0.22";
            p.b.host.exec("ip", "addr", "add", second + "/24", "dev", p.b.veth).orFail("b's second address");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Shell.Result r = p.a.ns.exec(120, java, "-cp", System.getProperty("java.class.path"),
                    TwoCopies.class.getName(), p.b.publicKey, p.a.privateKey, Integer.toString(INITIATIONS),
                    p.a.inner4, p.b.inner4, p.b.underlay4 + ":" + p.b.port, second + ":" + p.b.port)
                    .orFail("TwoCopies");
            String line = r.out().lines().filter(l -> l.startsWith("initiations ")).reduce((x, y) -> y).orElse("");
            Map<String, Integer> f = figures(line);
            assertEquals(INITIATIONS, f.get("initiations"), "TwoCopies printed no result: " + r.out());
            FIGURES.record(line);

            assertTrue(f.get("answered") >= INITIATIONS * 95 / 100, "b answered too few initiations: " + r.out());
            Assumptions.assumeTrue(f.get("doubled") > 0, "b answered no initiation twice in this run: " + r.out());
            assertEquals(f.get("doubled"), f.get("both_taken"), "jwg's handshake refused a second answer: " + r.out());
            assertEquals(f.get("doubled"), f.get("kept_later"),
                    "b kept a session other than the later answer's (jwg sends on the later): " + r.out());
        }
    }

    private static Map<String, Integer> figures(String line) {
        String[] words = line.split(" ");
        Map<String, Integer> f = new HashMap<>();
        for (int i = 0; i + 1 < words.length; i += 2) {
            f.put(words[i], Integer.parseInt(words[i + 1]));
        }
        return f;
    }
}
