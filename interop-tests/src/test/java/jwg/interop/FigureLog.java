package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Where a test's measured figures go: printed with the test's name, so they stand in the build's output, and appended
 * with the time to a file under target/, so the runs of a session can be read side by side afterwards.
 */
final class FigureLog {
    private final String test;
    private final Path file;

    FigureLog(String test, String fileName) {
        this.test = test;
        this.file = Path.of("target", fileName).toAbsolutePath();
    }

    void record(String line) {
        System.out.println(test + ": " + line);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, Instant.now() + " " + line + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
