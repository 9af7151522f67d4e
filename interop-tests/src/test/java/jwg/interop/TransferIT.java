package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Bulk TCP through the tunnel arrives whole: every byte sent is received, in order, none added. */
class TransferIT {
    private static final int MEGABYTES = 20;
    private static final int TCP_PORT = 5001;

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
        Environment.requireTool("ncat");
    }

    @ParameterizedTest(name = "{0} sends to {1}")
    @MethodSource("jwg.interop.Pair#pairings")
    void twentyMegabytesOfRandomDataCrossTheTunnelByteForByte(Implementation a, Implementation b,
            @TempDir Path dir) throws IOException {
        Path sent = dir.resolve("sent");
        Path received = dir.resolve("received");
        Shell.sh("head -c " + MEGABYTES + "M /dev/urandom > " + sent).orFail("random file");
        try (Pair p = Pair.of(a, b);
             Shell.Background listener = p.b.ns.spawn("bash", "-c",
                     "exec ncat -l --recv-only " + p.b.inner4 + " " + TCP_PORT + " > " + received)) {
            assertTrue(Shell.eventually(10, () -> !p.b.ns.exec("ss", "-Htln", "sport = :" + TCP_PORT).out().isBlank()),
                    "ncat in " + p.b.ns.name + " never listened on port " + TCP_PORT);

            long start = System.nanoTime();
            Shell.Result send = p.a.ns.exec(300, "bash", "-c",
                    "ncat --send-only " + p.b.inner4 + " " + TCP_PORT + " < " + sent);
            Shell.Result receive = listener.await(30);
            System.out.printf("%s: %d MB in %.1f s%n", p, MEGABYTES, (System.nanoTime() - start) / 1e9);

            assertEquals(0, send.exit(), p + ": the sender failed: " + send.out());
            assertEquals(0, receive.exit(), p + ": the receiver failed: " + receive.out());
            assertEquals(Files.size(sent), Files.size(received), p + ": bytes received");
            assertArrayEquals(sha256(sent), sha256(received), p + ": SHA-256 of what arrived differs from what was sent");
        }
    }

    private static byte[] sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
