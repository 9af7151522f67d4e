package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Autogroup on a stand-in for /proc/self/autogroup (which takes a number and reads back as "/autogroup-N nice V"). */
class AutogroupTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(Log.Level.VERBOSE, "wg9", new PrintStream(logged, true, StandardCharsets.UTF_8));

    @Test
    void lowersToNineteenAndRestoresTheValueItFoundOnce() throws Exception {
        Path f = Files.writeString(dir.resolve("autogroup"), "/autogroup-42 nice 3\n");
        Autogroup g = Autogroup.lower(f, log);
        assertNotNull(g);
        assertEquals("19", Files.readString(f));
        assertTrue(g.isLowered());
        g.restore();
        assertEquals("3", Files.readString(f));
        assertFalse(g.isLowered());
        Files.writeString(f, "/autogroup-42 nice 7\n"); // someone else's change since: a second restore leaves it
        g.restore();
        assertEquals("/autogroup-42 nice 7\n", Files.readString(f));
    }

    @Test
    void leavesAGroupAlreadyAtTheLowestPriorityOrUnreadableAlone() throws Exception {
        Path f = Files.writeString(dir.resolve("autogroup"), "/autogroup-42 nice 19\n");
        assertNull(Autogroup.lower(f, log));
        assertEquals("/autogroup-42 nice 19\n", Files.readString(f));
        assertNull(Autogroup.lower(dir.resolve("missing"), log));
        Path garbled = Files.writeString(dir.resolve("garbled"), "nothing here\n");
        assertNull(Autogroup.lower(garbled, log));
        assertEquals("nothing here\n", Files.readString(garbled));
    }

    @Test
    void notInASessionItDoesNotLead() {
        assertNull(Autogroup.lower(false, log));
    }

    @Test
    void aRestoreThatFailsIsLogged() throws Exception {
        Path f = Files.writeString(dir.resolve("autogroup"), "/autogroup-42 nice 0\n");
        Autogroup g = Autogroup.lower(f, log);
        assertNotNull(g);
        Files.delete(f);
        Files.createDirectory(f); // writing the value back now fails
        g.restore();
        assertTrue(logged.toString(StandardCharsets.UTF_8).contains("could not restore"), logged.toString());
    }

    @Test
    void readsTheNiceValueOfTheKernelsLine() {
        assertEquals(0, Autogroup.niceOf("/autogroup-25 nice 0\n"));
        assertEquals(-5, Autogroup.niceOf("/autogroup-25 nice -5"));
        assertThrows(IllegalArgumentException.class, () -> Autogroup.niceOf("/autogroup-25"));
    }
}
