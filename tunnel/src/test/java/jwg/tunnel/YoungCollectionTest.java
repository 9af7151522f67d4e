package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The young collection after the warm-up runs, under the daemon's collector and start-up heap (bin/jwg's
 * -XX:+UseSerialGC -Xms16m -Xmx256m, copied here): checked in a child JVM by a weak reference made before it, which
 * only a collection clears. A heap whose young generation has grown past the limit is not covered.
 */
class YoungCollectionTest {
    @Test
    void aYoungCollectionRunsWithinTheLimitUnderTheDaemonsHeap() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xms16m", "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), Child.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            fail("the child JVM did not end within 60 s");
        }
        assertEquals(0, child.exitValue());
        assertEquals("collected true, cleared true",
                new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
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
