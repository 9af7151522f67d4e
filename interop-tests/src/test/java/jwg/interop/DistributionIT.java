package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution bin/dist makes, as a user installs it: unpacked into an empty directory, started by the stock
 * wg-quick with a PATH that holds no java and no JAVA_HOME, it brings a tunnel up with wireguard-go and down again,
 * running on its own runtime.
 */
class DistributionIT {
    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("wg-quick");
        Environment.requireTool("tar");
    }

    @Test
    void theTarballUnpackedAnywhereRunsWithoutAJavaOnThePathAndWgQuickBringsItUp(@TempDir Path dir)
            throws IOException {
        Path top = Path.of("").toAbsolutePath().getParent();
        Path out = dir.resolve("out");
        Shell.Result built = Shell.run(List.of(top.resolve("bin/dist").toString(), "--out", out.toString()), 600);
        assertEquals(0, built.exit(), "bin/dist failed: " + built.out());
        Path tarball;
        try (Stream<Path> files = Files.list(out)) {
            tarball = files.filter(f -> f.getFileName().toString().matches("jwg-.+-linux-.+\\.tar\\.gz"))
                    .findFirst().orElseThrow(() -> new AssertionError("no jwg-VERSION-linux-ARCH.tar.gz in " + out));
        }
        Path unpacked = Files.createDirectory(dir.resolve("unpacked"));
        Shell.Result untar = Shell.run(List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()), 120);
        assertEquals(0, untar.exit(), "tar: " + untar.out());
        Path root;
        try (Stream<Path> entries = Files.list(unpacked)) {
            root = entries.findFirst().orElseThrow();
        }
        for (String part : new String[] {"bin/jwg", "lib/jwg.jar", "runtime/bin/java", "share/man/man8/jwg.8",
                "lib/systemd/wg-quick@.service.d/jwg.conf"}) {
            assertTrue(Files.exists(root.resolve(part)), "the distribution has no " + part);
        }
        Path path = pathWithoutJava(dir.resolve("path"));
        Shell.Result java = Shell.run(List.of("env", "PATH=" + path, "sh", "-c", "command -v java"), 10);
        assertNotEquals(0, java.exit(), "the PATH meant to have no java has one: " + java.out());

        Implementation dist = new Implementation("jwg-dist", List.of(root.resolve("bin/jwg").toString()));
        try (Pair p = Pair.hosts(Implementation.wireguardGo(), dist)) {
            p.a.up();
            p.a.addPeer(p.b, false, null);
            Path conf = WgQuickIT.config(p, dir);
            Path log = Implementation.logFile(p.b.ifname);
            Shell.Result up = p.b.wgQuick("up", conf.toString(), "PATH=" + path, "JAVA_HOME=");
            assertEquals(0, up.exit(), "wg-quick up exited " + up.exit() + ":\n" + Shell.tail(log));
            assertTrue(p.b.ping(p.a.inner4, 3), "no ping reply from wireguard-go through the distribution's jwg");
            List<Long> pids = p.b.ns.pids();
            assertEquals(1, pids.size(), "processes in b's namespace: " + pids);
            Path exe = Path.of("/proc", pids.get(0).toString(), "exe").toRealPath();
            assertTrue(exe.startsWith(root.resolve("runtime").toRealPath()), "the daemon runs " + exe
                    + ", not the distribution's runtime");
            // The tarball's class-data-sharing archive, made where bin/dist ran, serves the daemon where it was
            // unpacked: the JVM maps it (which of the two depends on the CPU, bin/jwg).
            String maps = Files.readString(Path.of("/proc", pids.get(0).toString(), "maps"));
            String lib = root.resolve("lib").toRealPath().toString();
            assertTrue(maps.contains(lib + "/jwg.jsa") || maps.contains(lib + "/jwg-vector.jsa"),
                    "the daemon maps neither of the distribution's archives (lib/jwg.jsa, lib/jwg-vector.jsa)");
            Shell.Result down = p.b.wgQuick("down", conf.toString(), "PATH=" + path, "JAVA_HOME=");
            assertEquals(0, down.exit(), "wg-quick down exited " + down.exit() + ":\n" + Shell.tail(log));
            assertTrue(Shell.eventually(10, () -> p.b.ns.pids().isEmpty()),
                    "processes still running in b's namespace after wg-quick down: " + p.b.ns.pids());
        }
    }

    /** A directory of links to every command on the usual PATH but java: the machine's tools, less any Java. */
    private static Path pathWithoutJava(Path dir) throws IOException {
        Files.createDirectory(dir);
        for (String d : new String[] {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
            Path from = Path.of(d);
            if (!Files.isDirectory(from)) {
                continue;
            }
            try (Stream<Path> commands = Files.list(from)) {
                for (Path c : (Iterable<Path>) commands::iterator) {
                    Path link = dir.resolve(c.getFileName());
                    String name = c.getFileName().toString();
                    if (!name.startsWith("java") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, c);
                    }
                }
            }
        }
        return dir;
    }
}
