package jwg.tunnel;

/**
 * Overwrites the free space of the young generation, where a library left garbage copies of a secret jwg has erased
 * everywhere it holds one. BouncyCastle's X25519 decodes the private scalar into a fresh int[] for every operation
 * with it (the same bytes as the key, for a key wg made), and nothing zeroes garbage: an idle daemon allocates so
 * little that those arrays outlive a replaced private key for as long as it stays idle (4 copies 3 s after
 * `wg set private-key`, in eden, where bench/secrets finds them). The JVM zeroes every array it allocates, so
 * allocating the heap's size twice over, in pieces that die at once, runs the allocation point across all of eden at
 * least once, collections between. About 32 MB of allocation (at most 64) and a few young collections of nothing,
 * once per private key replaced.
 */
final class HeapScrub {
    private static final int PIECE = 64 * 1024;
    /**
     * A heap grown by a big configuration need not be swept whole (eden is 4 MB under bin/jwg's options): this bounds
     * the work it adds to the timer thread.
     */
    private static final long MAX_BYTES = 64L << 20;
    /** Each piece is published here, so the JIT cannot prove the allocations dead and remove them. */
    private static volatile byte[] last;

    private HeapScrub() {}

    static void run() {
        long bytes = Math.min(2 * Runtime.getRuntime().totalMemory(), MAX_BYTES);
        for (long done = 0; done < bytes; done += PIECE) {
            last = new byte[PIECE];
        }
        last = null;
    }
}
