package jwg.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import jwg.noise.ReplayWindow;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link ReplayWindow#accept} of fresh counters, one thread (the lock is uncontended). Each invocation offers a block
 * of {@value #BLOCK} new counters and is declared as {@value #BLOCK} operations, so the score is accepts/s and the
 * harness overhead is spread over the block. Every counter is new, so every accept must succeed (checked).
 *
 * <ul>
 *   <li>{@link #inOrder}: strictly increasing counters, the common case: each accept advances the window.</li>
 *   <li>{@link #reorderedInBlocksOf64}: counters base..base+63 in a random order (one of 64 pre-made permutations,
 *       cycled), then the next block: each counter is at most 63 behind the greatest seen. In a random order only the
 *       running maxima advance the window (about 4.7 of 64, the harmonic number H(64)); the other ~93% are filled in
 *       behind the front, as under network reordering.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
        "--add-exports", "java.base/sun.security.util.math=ALL-UNNAMED"})
public class ReplayWindowBench {
    static final int BLOCK = 64;
    private static final int PERMUTATIONS = 64;

    private ReplayWindow window;
    private long base;
    private int[] order;
    private int cursor;

    @Setup
    public void setUp() {
        window = new ReplayWindow();
        base = 0;
        cursor = 0;
        order = new int[BLOCK * PERMUTATIONS];
        Random random = new Random(64);
        for (int p = 0; p < PERMUTATIONS; p++) {
            int[] block = new int[BLOCK];
            for (int i = 0; i < BLOCK; i++) {
                block[i] = i;
            }
            for (int i = BLOCK - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = block[i];
                block[i] = block[j];
                block[j] = t;
            }
            System.arraycopy(block, 0, order, p * BLOCK, BLOCK);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BLOCK)
    public int inOrder() {
        ReplayWindow w = window;
        long b = base;
        int accepted = 0;
        for (int i = 0; i < BLOCK; i++) {
            if (w.accept(b + i)) {
                accepted++;
            }
        }
        base = b + BLOCK;
        if (accepted != BLOCK) {
            throw new IllegalStateException("rejected a fresh counter");
        }
        return accepted;
    }

    @Benchmark
    @OperationsPerInvocation(BLOCK)
    public int reorderedInBlocksOf64() {
        ReplayWindow w = window;
        int[] o = order;
        long b = base;
        int c = cursor;
        int accepted = 0;
        for (int i = 0; i < BLOCK; i++) {
            if (w.accept(b + o[c + i])) {
                accepted++;
            }
        }
        base = b + BLOCK;
        cursor = (c + BLOCK) & (o.length - 1);
        if (accepted != BLOCK) {
            throw new IllegalStateException("rejected a fresh counter");
        }
        return accepted;
    }
}
