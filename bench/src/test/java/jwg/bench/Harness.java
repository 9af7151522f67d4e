package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the tests of bench/'s scripts share: the machine they need, and one run of a script as a real process. */
final class Harness {
    private Harness() {}

    /**
     * The bench module's directory, once this machine can run script: as root (CI must be), with tools on the PATH;
     * otherwise the test is skipped, saying why.
     */
    static Path require(String script, String... tools) {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root && System.getenv("CI") != null) {
            throw new AssertionError("CI must run bench/" + script + " as root");
        }
        assumeTrue(root, "needs root: bench/" + script + " creates network namespaces and TUN devices");
        for (String tool : tools) {
            assumeTrue(onPath(tool), tool + " is not installed (bin/install-deps installs it)");
        }
        return Path.of("").toAbsolutePath();
    }

    /**
     * Runs bench/script with args and --out out (its output in out/script.log), fails if it takes over limitMinutes
     * or exits non-zero, and returns out/results.json parsed.
     */
    static Object run(Path module, String script, Path out, long limitMinutes, String... args)
            throws IOException, InterruptedException {
        Files.createDirectories(out);
        File log = out.resolve(script + ".log").toFile();
        List<String> command = new ArrayList<>(List.of(module.resolve(script).toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--out", out.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log);
        // Maven has just built the jars; a harness must measure those, not rebuild under a running build.
        pb.environment().put("JWG_BENCH_NO_BUILD", "1");
        Process p = pb.start();
        if (!p.waitFor(limitMinutes, TimeUnit.MINUTES)) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("bench/" + script + " took over " + limitMinutes + " minutes; " + tail(log));
        }
        assertEquals(0, p.exitValue(), "bench/" + script + " failed; " + tail(log));
        return JsonReader.parse(Files.readString(out.resolve("results.json")));
    }

    static String tail(File log) throws IOException {
        List<String> lines = Files.readAllLines(log.toPath());
        return "the end of " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
                lines.size()));
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
