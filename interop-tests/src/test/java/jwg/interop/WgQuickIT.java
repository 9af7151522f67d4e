package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stock wg-quick brings b's interface up and down from a config file. The kernel has no WireGuard module, so
 * wg-quick falls back to WG_QUICK_USERSPACE_IMPLEMENTATION. a is a peer configured through the harness. b =
 * wireguard-go is the control.
 */
class WgQuickIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("wg-quick");
    }

    /** (a, b): b is the side wg-quick manages. */
    static Stream<Arguments> pairings() {
        return Stream.of(
                Arguments.of(Implementation.wireguardGo(), Implementation.jwg()),
                Arguments.of(Implementation.jwg(), Implementation.jwg()),
                Arguments.of(Implementation.jwg(), Implementation.wireguardGo()));
    }

    /** A wg-quick config in dir for b, whose peer is a (up already); named after b's interface, as wg-quick wants. */
    static Path config(Pair p, Path dir) throws IOException {
        Path conf = Files.createFile(dir.resolve(p.b.ifname + ".conf"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(conf, """
                [Interface]
                PrivateKey = %s
                Address = %s/24
                ListenPort = %d

                [Peer]
                PublicKey = %s
                AllowedIPs = %s/32
                Endpoint = %s:%d
                """.formatted(p.b.privateKey, p.b.inner4, p.b.port, p.a.publicKey, p.a.inner4, p.a.underlay4,
                p.a.port));
        return conf;
    }

    @ParameterizedTest(name = "{0} peers with wg-quick on {1}")
    @MethodSource("pairings")
    void wgQuickUpStartsTheDaemonFromAConfigFileAndWgQuickDownEndsIt(Implementation a, Implementation b,
            @TempDir Path dir) throws IOException {
        try (Pair p = Pair.hosts(a, b)) {
            p.a.up();
            p.a.addPeer(p.b, false, null);
            Path conf = config(p, dir);
            Path log = Implementation.logFile(p.b.ifname);

            Shell.Result up = p.b.wgQuick("up", conf.toString());
            assertEquals(0, up.exit(), p + ": wg-quick up exited " + up.exit() + ":\n" + Shell.tail(log));
            assertTrue(Files.exists(p.b.socket()), p + ": no UAPI socket after wg-quick up");
            assertTrue(p.b.ping(p.a.inner4, 3), p + ": no ping reply from a after wg-quick up on b");
            assertTrue(p.a.ping(p.b.inner4, 3), p + ": no ping reply from b after wg-quick up on b");

            Shell.Result down = p.b.wgQuick("down", conf.toString());
            assertEquals(0, down.exit(), p + ": wg-quick down exited " + down.exit() + ":\n" + Shell.tail(log));
            assertTrue(Shell.eventually(10, () -> p.b.ns.pids().isEmpty()),
                    p + ": processes still running in b's namespace 10 s after wg-quick down: " + p.b.ns.pids());
            assertFalse(Files.exists(p.b.socket()), p + ": the UAPI socket is still there after wg-quick down");
        }
    }
}
