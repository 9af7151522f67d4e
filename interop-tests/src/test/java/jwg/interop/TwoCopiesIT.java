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
 * What roaming's probes meet, against wireguard-go itself: one initiation sent to three of b's addresses at once. b
 * checks an initiation's timestamp and records it in two separate steps (the kernel's code has the same two), so two
 * copies that reach two of its handshake workers together are sometimes both answered, and b keeps the session of
 * only one answer. jwg recognises the second answer ({@code Handshake.furtherAnswer}, in {@link TwoCopies}, in a's
 * namespace with a's key) and settles it with a new handshake (Peer.furtherAnswer): this checks that b answers twice
 * at all, that every second answer is recognised as authentic, and that b then holds one of the two sessions (which
 * one is recorded: the later answer's in every case seen so far). 2026-12-03, 2 cores: 6 and 4 of 400 initiations
 * answered more than once; with two addresses, 14 of 600, then 4, 13, 7 and 1 of 300.
 */
class TwoCopiesIT {
    private static final int INITIATIONS = 400;
    private static final FigureLog FIGURES = new FigureLog("TwoCopiesIT", "two-copies.txt");

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Test
    void wireguardGoAnswersTwoCopiesOfOneInitiationSometimesAndKeepsTheLaterSession() {
        try (Pair p = Pair.of(Implementation.wireguardGo(), Implementation.wireguardGo())) {
            // Three copies of each initiation: three pairs of them that may race.
            for (String extra : new String[] {"10.99.0.22", "10.99.0.32"}) {
                p.b.host.exec("ip", "addr", "add", extra + "/24", "dev", p.b.veth).orFail("b's address " + extra);
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Shell.Result r = p.a.ns.exec(120, java, "-cp", System.getProperty("java.class.path"),
                    TwoCopies.class.getName(), p.b.publicKey, p.a.privateKey, Integer.toString(INITIATIONS),
                    p.a.inner4, p.b.inner4, p.b.underlay4 + ":" + p.b.port, "10.99.0.22:" + p.b.port,
                    "10.99.0.32:" + p.b.port)
                    .orFail("TwoCopies");
            String line = r.out().lines().filter(l -> l.startsWith("initiations ")).reduce((x, y) -> y).orElse("");
            Map<String, Integer> f = figures(line);
            assertEquals(INITIATIONS, f.get("initiations"), "TwoCopies printed no result: " + r.out());
            FIGURES.record(line);

            assertTrue(f.get("answered") >= INITIATIONS * 95 / 100, "b answered too few initiations: " + r.out());
            Assumptions.assumeTrue(f.get("doubled") > 0, "b answered no initiation twice in this run: " + r.out());
            assertEquals(f.get("doubled"), f.get("recognised"), "jwg's handshake missed a second answer: " + r.out());
            assertEquals(0, f.get("kept_neither"), "b kept neither answer's session: " + r.out());
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
