package jwg.interop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** Runs commands for the interop tests and captures what they print. */
final class Shell {
    record Result(int exit, String out) {
        Result orFail(String what) {
            if (exit != 0) {
                throw new AssertionError(what + " failed (exit " + exit + "): " + out);
            }
            return this;
        }
    }

    private Shell() {}

    static Result run(List<String> command, int timeoutSeconds) {
        return run(command, null, timeoutSeconds);
    }

    /** command with input on its standard input (null: /dev/null). */
    static Result run(List<String> command, String input, int timeoutSeconds) {
        try {
            Process p = startProcess(command, input);
            // Read in the background: a daemon started by the command may keep the pipe open after it exits.
            StringBuilder out = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // process gone
                }
            });
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
            }
            reader.join(200);
            synchronized (out) {
                return new Result(p.exitValue(), out.toString());
            }
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    /** Runs command with its output appended to log (for daemons, which keep their output open). */
    static Result runLogged(List<String> command, java.nio.file.Path log, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), "");
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    /** The last lines of a log, for failure messages. */
    static String tail(java.nio.file.Path log) {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static Result run(String... command) {
        return run(List.of(command), 60);
    }

    /** A shell command line, for pipes and redirections. */
    static Result sh(String script) {
        return run(List.of("bash", "-c", script), 120);
    }

    /** Polls condition every 100 ms until it holds (true) or timeoutSeconds have passed (false). */
    static boolean eventually(int timeoutSeconds, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Starts command in the background, its output (stdout and stderr) collected for {@link Background#await}. */
    static Background start(List<String> command) {
        return start(command, null, UnaryOperator.identity());
    }

    /**
     * Starts command with input on its standard input (null: /dev/null); {@link Background#await} passes its result
     * through decode (for commands whose exit status travels in their output).
     */
    static Background start(List<String> command, String input, UnaryOperator<Result> decode) {
        try {
            return new Background(startProcess(command, input), command, decode);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Process startProcess(List<String> command, String input) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (input == null) {
            return builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        }
        Process p = builder.start();
        // Written from another thread: a command that does not read its input must not block the caller.
        Thread.ofVirtual().start(() -> {
            try (var stdin = p.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the command ended without reading it all
            }
        });
        return p;
    }

    /** A command running in the background. Closing it kills it if it still runs. */
    static final class Background implements AutoCloseable {
        private final Process process;
        private final List<String> command;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Thread reader;
        private final UnaryOperator<Result> decode;

        private Background(Process process, List<String> command, UnaryOperator<Result> decode) {
            this.process = process;
            this.command = command;
            this.decode = decode;
            this.reader = Thread.ofVirtual().start(() -> {
                try {
                    process.getInputStream().transferTo(out);
                } catch (IOException ignored) {
                    // process gone
                }
            });
        }

        boolean isAlive() {
            return process.isAlive();
        }

        /** The process id of the command (for a command run through ip netns exec, the command's own: it execs). */
        long pid() {
            return process.pid();
        }

        /** Waits for the command to end; exit -1 if it is still running after timeoutSeconds (it is then killed). */
        Result await(int timeoutSeconds) {
            try {
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command)
                            + "\n" + out());
                }
                reader.join(1000);
                return decode.apply(new Result(process.exitValue(), out()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(-1, "interrupted");
            }
        }

        /** What the command has printed so far (stdout and stderr); it may still be running. */
        String out() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    static List<String> concat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }
}
