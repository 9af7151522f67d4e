package jwg.noise;

/**
 * The receive-side sliding window against replayed transport messages (§5.4.6), after RFC 6479: a ring of 8192 bits in
 * 64-bit words. A counter up to 8128 behind the greatest one seen is still judged exactly; one word of the ring is the
 * slack that lets the window advance by clearing whole words. Same geometry and bounds as the kernel's.
 *
 * <p>Only authenticated counters may be offered: call it after decryption, or a forger could advance the window.
 * Thread-safe: one lock per window, so per keypair, never shared across peers; uncontended it costs one CAS, next to a
 * microsecond of decryption.
 */
public final class ReplayWindow {
    private static final int WORD_BITS = 64;
    private static final int RING_WORDS = 128;
    public static final int WINDOW_SIZE = RING_WORDS * WORD_BITS - WORD_BITS;

    private final long[] ring = new long[RING_WORDS];
    /** One past the greatest counter accepted, so that 0 means "none yet" and counter 0 is still acceptable. */
    private long next;

    /**
     * Accepts counter once: true the first time a counter inside the window is seen, false for a duplicate, for a
     * counter more than {@link #WINDOW_SIZE} behind the greatest seen, and for counters at or past
     * REJECT_AFTER_MESSAGES. Counters are unsigned 64-bit values.
     */
    public synchronized boolean accept(long counter) {
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return false;
        }
        long position = counter + 1;
        if (Long.compareUnsigned(position, next) > 0) {
            long word = position >>> 6;
            long current = next >>> 6;
            long toClear = Math.min(word - current, RING_WORDS);
            for (long i = 1; i <= toClear; i++) {
                ring[(int) ((current + i) & (RING_WORDS - 1))] = 0;
            }
            next = position;
        } else if (Long.compareUnsigned(next - position, WINDOW_SIZE) > 0) {
            return false;
        }
        int w = (int) ((position >>> 6) & (RING_WORDS - 1));
        long bit = 1L << (position & (WORD_BITS - 1));
        if ((ring[w] & bit) != 0) {
            return false;
        }
        ring[w] |= bit;
        return true;
    }
}
