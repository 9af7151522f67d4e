package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import jwg.noise.Key;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hook runner with a real shell: the environment it gives, and that a slow hook holds up nothing else. */
class HooksTest {
    private static final Key PEER = Key.fromBase64("TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=");

    @TempDir
    Path dir;

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(Log.Level.VERBOSE, "wg9", new PrintStream(logged, true, StandardCharsets.UTF_8));

    private List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void theHookGetsTheFactsInItsEnvironment() throws Exception {
        Path out = dir.resolve("events");
        try (Hooks hooks = new Hooks("wg9", "echo \"$JWG_EVENT|$JWG_INTERFACE|$JWG_PEER|$JWG_ENDPOINT_BEFORE|"
                + "$JWG_ENDPOINT|$JWG_REASON\" >> " + out, log)) {
            hooks.post(Hooks.Event.ENDPOINT_CHANGED, PEER, "10.0.0.2:51820", null, "set by wg");
            await(() -> uncheckedLines(out).size() == 1, "the first hook ran");
            hooks.post(Hooks.Event.SESSION_DOWN, PEER, "[2001:db8::1]:1", null, "peer removed");
            await(() -> uncheckedLines(out).size() == 2, "the second hook ran");
            assertEquals(List.of("endpoint_changed|wg9|" + PEER.toBase64() + "||10.0.0.2:51820|set by wg",
                    "session_down|wg9|" + PEER.toBase64() + "||[2001:db8::1]:1|peer removed"), lines(out));
        }
    }

    /**
     * Events come from handshake workers at nice 10; a hook thread made by one started at 10 too, and so did the hook.
     * Raising a thread's priority back takes CAP_SYS_NICE: as root only.
     */
    @Test
    void aHookPostedFromALowerPriorityThreadRunsAtTheDaemonsPriority() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root (CAP_SYS_NICE) to raise the hook thread's priority again");
        Path out = dir.resolve("nice");
        int ours = Posix.niceValue();
        Assumptions.assumeTrue(ours <= 9, "runs at nice " + ours + ": no room for a lower-priority thread 10 below");
        try (Hooks hooks = new Hooks("wg9", "cut -d' ' -f19 /proc/$$/stat >> " + out, log)) {
            Thread worker = new Thread(() -> {
                Posix.lowerPriority(ours + 10);
                hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            });
            worker.start();
            worker.join();
            await(() -> uncheckedLines(out).size() == 1, "the hook ran");
            assertEquals(List.of(Integer.toString(ours)), lines(out), "the hook's nice value");
        }
    }

    @Test
    void aSlowHookHoldsUpNeitherTheCallerNorTheHooksAfterIt() throws Exception {
        Path out = dir.resolve("events");
        Path slow = dir.resolve("slow-started");
        try (Hooks hooks = new Hooks("wg9", "if [ \"$JWG_REASON\" = slow ]; then touch " + slow + "; sleep 60; fi; "
                + "echo \"$JWG_REASON\" >> " + out, log)) {
            hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "slow");
            await(() -> Files.exists(slow), "the slow hook started");
            for (int i = 0; i < 10; i++) {
                hooks.post(Hooks.Event.ENDPOINT_CHANGED, PEER, null, null, "fast " + i);
            }
            await(() -> uncheckedLines(out).size() == 10, "the fast hooks ran while the slow one sleeps");
            assertTrue(!lines(out).contains("slow"), "the slow one is still asleep");
        }
        // close() killed it: its line never comes.
        Thread.sleep(300);
        assertTrue(!lines(out).contains("slow"), lines(out).toString());
    }

    @Test
    void eventsBeyondTheQueueAreDroppedAndSaidSo() throws Exception {
        try (Hooks hooks = new Hooks("wg9", "sleep 60", log)) {
            for (int i = 0; i < Hooks.MAX_RUNNING + Hooks.MAX_QUEUED + 3; i++) {
                hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            }
            String text = logged.toString(StandardCharsets.UTF_8);
            assertEquals(1, text.lines().filter(l -> l.contains("ERROR") && l.contains("dropped session_up")).count(),
                    "one line for a burst:\n" + text);
        }
    }

    @Test
    void theEndOfABurstOfDropsIsCounted() throws Exception {
        Path out = dir.resolve("events");
        Path gate = dir.resolve("gate");
        try (Hooks hooks = new Hooks("wg9", "while [ ! -e " + gate + " ]; do sleep 0.05; done; echo ran >> " + out,
                log)) {
            for (int i = 0; i < Hooks.MAX_RUNNING + Hooks.MAX_QUEUED + 5; i++) {
                hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            }
            Files.createFile(gate);
            await(() -> uncheckedLines(out).size() == Hooks.MAX_RUNNING + Hooks.MAX_QUEUED, "the queue drained");
            hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            await(() -> logged.toString(StandardCharsets.UTF_8).contains("hook: 4 more events were dropped"),
                    logged.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aFailingHookIsLoggedAndTheConfigsHookWinsOverTheEnvironments() throws Exception {
        Path out = dir.resolve("events");
        try (Hooks hooks = new Hooks("wg9", "exit 3", log)) {
            hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            await(() -> logged.toString(StandardCharsets.UTF_8).contains("exited with 3"), "the failure is logged");
            hooks.configured("echo config >> " + out);
            hooks.post(Hooks.Event.SESSION_UP, PEER, null, null, "handshake");
            await(() -> uncheckedLines(out).equals(List.of("config")), "the config's hook ran");
            hooks.configured(null);
            assertEquals("exit 3", hooks.command(), "JWG_HOOK's again once the config names none");
        }
    }

    private List<String> uncheckedLines(Path file) {
        try {
            return lines(file);
        } catch (IOException e) {
            return List.of();
        }
    }
}
