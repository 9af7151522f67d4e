package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real commands for the integration tests: the bin/jwg launcher and the stock WireGuard tools. */
final class Commands {
    record Outcome(int exit, String out, String err) {}

    private Commands() {}

    /** bin/jwg of this checkout (failsafe runs in the module directory). */
    static String jwg() {
        return Path.of("").toAbsolutePath().getParent().resolve("bin/jwg").toString();
    }

    /**
     * Skips the test when a tool is missing on a developer's machine, with a message saying which; under CI a missing
     * tool fails the test, because .ci/run installs them all.
     */
    static void require(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return;
            }
        }
        String why = tool + " is not installed (bin/test installs it)";
        if (System.getenv("CI") != null) {
            fail(why);
        }
        abort(why);
    }

    static Outcome run(byte[] stdin, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin);
        } catch (IOException closedEarly) {
            // The command may exit before reading all its input (wg does, on a bad key); that is its answer.
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread e = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
        copy(p.getInputStream(), out);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + String.join(" ", command));
        }
        e.join();
        return new Outcome(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream from, ByteArrayOutputStream to) {
        try {
            from.transferTo(to);
        } catch (IOException ignored) {
            // The process ended; what was read is what it wrote.
        }
    }
}
