package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The young collection after the warm-up runs, under the daemon's collector and heap bounds (bin/jwg's): checked in a
 * child JVM by a weak reference made before it, which only a collection clears.
 */
class YoungCollectionTest {
    @Test
    void aYoungCollectionRunsWithinTheLimitUnderTheDaemonsHeap() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xms16m", "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), Child.class.getName()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        child.waitFor(30, TimeUnit.SECONDS);
        assertEquals("collected true, cleared true", out);
    }

    /** Prints what the call returned and whether a young object made before it was collected. */
    static final class Child {
        public static void main(String[] args) {
            WeakReference<Object> young = new WeakReference<>(new Object());
            boolean collected = Warmup.collectYoungGeneration(32 << 20);
            System.out.println("collected " + collected + ", cleared " + young.refersTo(null));
        }
    }
}
