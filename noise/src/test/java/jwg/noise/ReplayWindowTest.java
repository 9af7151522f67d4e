package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The transport replay window (§5.4.6, RFC 6479): each counter is accepted at most once, exactly judged up to
 * WINDOW_SIZE (8128) behind the greatest accepted, never at or past REJECT_AFTER_MESSAGES (unsigned).
 */
class ReplayWindowTest {
    private static final int W = ReplayWindow.WINDOW_SIZE;
    private static final long REJECT = Protocol.REJECT_AFTER_MESSAGES;

    @Test
    void windowSizeIs8128() {
        assertEquals(8128, W);
    }

    @Test
    void countersInOrderAreAllAccepted() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 0; c <= 20_000; c++) {
            assertTrue(w.accept(c), "counter " + c);
        }
    }

    @Test
    void duplicatesAreRejected() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 0; c <= 20_000; c++) {
            assertTrue(w.accept(c));
            assertFalse(w.accept(c), "counter " + c + " again");
        }
        for (long c = 20_000 - W; c <= 20_000; c++) {
            assertFalse(w.accept(c), "counter " + c + " again later");
        }
    }

    @Test
    void outOfOrderCountersWithinTheWindowAreAcceptedOnce() {
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(1000));
        for (long c = 999; c >= 0; c -= 3) {
            assertTrue(w.accept(c), "counter " + c);
        }
        for (long c = 0; c <= 1000; c++) {
            assertEquals(c != 1000 && c % 3 != 0, w.accept(c), "counter " + c);
        }
        for (long c = 0; c <= 1000; c++) {
            assertFalse(w.accept(c), "counter " + c + " again");
        }
    }

    @Test
    void exactlyWindowSizeBehindTheGreatestIsAcceptedOneMoreIsRejected() {
        for (long top : new long[] {W, W + 1, 10_000, 65_535, 65_536, 1L << 40, REJECT - 1}) {
            ReplayWindow w = new ReplayWindow();
            assertTrue(w.accept(top));
            assertFalse(w.accept(top - W - 1), "top " + top);
            assertTrue(w.accept(top - W), "top " + top);
            assertTrue(w.accept(top - 1), "top " + top);
        }
    }

    @Test
    void afterAFarJumpOldCountersAreRejectedAndThoseNearTheTopAccepted() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 0; c < 100; c++) {
            assertTrue(w.accept(c));
        }
        for (long jump : new long[] {1_000_000, 1_000_000 + (1L << 40)}) {
            assertTrue(w.accept(jump));
            assertFalse(w.accept(50));
            assertFalse(w.accept(99));
            assertFalse(w.accept(jump - W - 1));
            assertTrue(w.accept(jump - W));
            assertTrue(w.accept(jump - 1));
            assertTrue(w.accept(jump + 1));
            assertTrue(w.accept(jump + 100));
            assertFalse(w.accept(jump));
        }
    }

    @Test
    void aJumpOfOneWholeRingFindsItsBitClear() {
        // 8192 counters share the ring: counter c and c + 8192 use the same bit, which the advance must clear.
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(5));
        assertTrue(w.accept(5 + 8192));
        assertTrue(w.accept(5 + 2 * 8192 - 64));
        assertTrue(w.accept(5 + 2 * 8192));
    }

    @Test
    void countersAtOrAfterRejectAfterMessagesAreRejectedUnsigned() {
        ReplayWindow w = new ReplayWindow();
        assertFalse(w.accept(REJECT));
        assertFalse(w.accept(REJECT + 1));
        assertFalse(w.accept(-1L));
        assertTrue(w.accept(REJECT - 1));
        assertTrue(w.accept(REJECT - 2));
        assertFalse(w.accept(REJECT - 1));
        assertFalse(w.accept(REJECT));
    }

    @Test
    void countersAreComparedUnsignedAcrossTheSignBit() {
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(Long.MAX_VALUE));
        assertTrue(w.accept(Long.MIN_VALUE)); // 2^63: one past Long.MAX_VALUE
        assertFalse(w.accept(Long.MAX_VALUE));
        assertTrue(w.accept(Long.MAX_VALUE - 1));
        assertFalse(w.accept(0)); // 2^63 behind, not 1 ahead
        assertTrue(w.accept(Long.MIN_VALUE + 1));
    }

    @Test
    void agreesWithANaiveModelOverALongRandomSequence() {
        Random random = new Random(6479);
        ReplayWindow w = new ReplayWindow();
        NaiveWindow model = new NaiveWindow();
        List<Long> offered = new ArrayList<>();
        long top = 0;
        int accepted = 0;
        for (int i = 0; i < 300_000; i++) {
            long c;
            int kind = random.nextInt(1000);
            if (kind < 400) {
                c = top + 1 + random.nextInt(3);                 // small step forward
            } else if (kind < 700) {
                c = top - random.nextInt(W + 200);               // reordered, around the window's edge
            } else if (kind < 900 && !offered.isEmpty()) {
                c = offered.get(offered.size() - 1 - random.nextInt(Math.min(offered.size(), 20_000))); // duplicate
            } else if (kind < 970) {
                c = top + 1 + random.nextInt(3 * 8192);          // jump within a few rings
            } else if (kind < 999) {
                c = top + (1L << (20 + random.nextInt(20)));     // far jump
            } else {
                c = REJECT - 1 - random.nextInt(20_000) + random.nextInt(40); // around the end
            }
            boolean expected = model.accept(c);
            assertEquals(expected, w.accept(c), "step " + i + " counter " + Long.toUnsignedString(c));
            if (expected) {
                accepted++;
                if (Long.compareUnsigned(c, top) > 0) {
                    top = c;
                }
            }
            offered.add(c);
            if (Long.compareUnsigned(top, REJECT - 50_000) > 0) {
                // Restart low so the sequence keeps exercising the ordinary range.
                w = new ReplayWindow();
                model = new NaiveWindow();
                top = 0;
                offered.clear();
            }
        }
        assertTrue(accepted > 100_000, "the sequence mostly makes progress: " + accepted);
    }

    @Test
    void concurrentThreadsOfferingTheSameCountersAcceptEachExactlyOnce() throws Exception {
        int threads = 4;
        int n = 100_000;
        // Each thread shuffles within blocks of 4096 (< WINDOW_SIZE), in its own order: whichever thread offers a
        // counter first, no thread has yet gone past its block, so it is still inside the window.
        int block = 4096;
        ReplayWindow w = new ReplayWindow();
        AtomicIntegerArray acceptedTimes = new AtomicIntegerArray(n);
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Long> order = blockShuffled(n, block, new Random(t));
                done.add(pool.submit(() -> {
                    start.await();
                    for (long c : order) {
                        if (w.accept(c)) {
                            acceptedTimes.incrementAndGet((int) c);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int c = 0; c < n; c++) {
            assertEquals(1, acceptedTimes.get(c), "counter " + c);
        }
    }

    private static List<Long> blockShuffled(int n, int block, Random random) {
        List<Long> all = new ArrayList<>(n);
        for (int from = 0; from < n; from += block) {
            List<Long> part = new ArrayList<>();
            for (long c = from; c < Math.min(n, from + block); c++) {
                part.add(c);
            }
            Collections.shuffle(part, random);
            all.addAll(part);
        }
        return all;
    }

    /** The window rule stated plainly: each counter once, none more than WINDOW_SIZE behind the greatest. */
    private static final class NaiveWindow {
        private final Set<Long> seen = new HashSet<>();
        private long greatest;
        private boolean any;

        boolean accept(long c) {
            if (Long.compareUnsigned(c, REJECT) >= 0) {
                return false;
            }
            if (any && Long.compareUnsigned(c, greatest) < 0 && Long.compareUnsigned(greatest - c, W) > 0) {
                return false;
            }
            if (!seen.add(c)) {
                return false;
            }
            if (!any || Long.compareUnsigned(c, greatest) > 0) {
                greatest = c;
            }
            any = true;
            return true;
        }
    }
}
