package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * jwg's hooks end to end (issue 14): jwg (a), brought up by the stock wg-quick with {@code #jwg: Hook = ...} in its
 * [Interface], talks to wireguard-go (b). The hook appends its event to a file and sleeps 60 s on the first
 * session_up: traffic must not wait for it, and the events after it (the peer removed) must run meanwhile.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HooksIT {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Test
    void aSlowHookHoldsUpNeitherTrafficNorTheHooksAfterIt() throws Exception {
        Path events = dir.resolve("events");
        Path hook = dir.resolve("hook.sh");
        Files.writeString(hook, """
                #!/bin/sh
                echo "$JWG_EVENT $JWG_INTERFACE $JWG_PEER $JWG_ENDPOINT_BEFORE>$JWG_ENDPOINT $JWG_REASON" >> %s
                if [ "$JWG_EVENT" = session_up ]; then sleep 60; echo "slow hook done" >> %s; fi
                """.formatted(events, events));
        assertTrue(hook.toFile().setExecutable(true));
        try (Pair p = Pair.hosts("h", Implementation.jwg(), Implementation.wireguardGo())) {
            Node a = p.a;
            Node b = p.b;
            b.up();
            b.addPeer(a, false, null);
            a.ns.etcFile("wireguard/" + a.ifname + ".conf", """
                    [Interface]
                    PrivateKey = %s
                    ListenPort = %d
                    Address = %s/24
                    #jwg: Hook = %s

                    [Peer]
                    PublicKey = %s
                    AllowedIPs = %s/32
                    Endpoint = %s:%d
                    """.formatted(a.privateKey, a.port, a.inner4, hook, b.publicKey, b.inner4, b.underlay4, b.port));
            Shell.Result up = a.wgQuick("up", a.ifname);
            assertEquals(0, up.exit(), "wg-quick up:\n" + up.out());
            try {
                assertTrue(a.ping(b.inner4, 3), "traffic waits for the hook?");
                String peerB = b.publicKey;
                String endpoint = b.underlay4 + ":" + b.port;
                assertTrue(Shell.eventually(10, () -> lines(events).contains(
                        "session_up " + a.ifname + " " + peerB + " >" + endpoint + " handshake")),
                        "no session_up: " + lines(events));
                assertTrue(lines(events).contains("endpoint_changed " + a.ifname + " " + peerB + " >" + endpoint
                        + " set by wg"), "no endpoint_changed from wg-quick's set: " + lines(events));

                a.wg("set", a.ifname, "peer", peerB, "remove").orFail("wg set peer remove");
                assertTrue(Shell.eventually(10, () -> lines(events).contains(
                        "session_down " + a.ifname + " " + peerB + " >" + endpoint + " peer removed")),
                        "session_down did not run while the slow hook sleeps: " + lines(events));
                assertFalse(lines(events).contains("slow hook done"), "the slow hook was not slow");
            } finally {
                a.wgQuick("down", a.ifname);
            }
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
