package jwg.noise;

import java.util.Arrays;

/**
 * TAI64N timestamps (§5.4.2): big-endian (2^62 + 10 + Unix seconds) ‖ big-endian nanoseconds. The nanoseconds are
 * rounded down to a multiple of 2^24 ("whitening", as the kernel and wireguard-go do) so the timestamp does not leak
 * a precise clock. The responder only needs them to grow; the clock comes in as an argument.
 */
public final class Tai64n {
    public static final int LEN = 12;
    private static final long TAI64_BASE = 0x400000000000000aL;
    private static final int WHITENER_MASK = (1 << 24) - 1;

    private Tai64n() {}

    public static byte[] of(long epochSeconds, int nanos) {
        byte[] out = new byte[LEN];
        long secs = TAI64_BASE + epochSeconds;
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (secs >>> (56 - 8 * i));
        }
        int n = nanos & ~WHITENER_MASK;
        for (int i = 0; i < 4; i++) {
            out[8 + i] = (byte) (n >>> (24 - 8 * i));
        }
        return out;
    }

    public static byte[] ofEpochNanos(long epochNanos) {
        return of(Math.floorDiv(epochNanos, 1_000_000_000L), (int) Math.floorMod(epochNanos, 1_000_000_000L));
    }

    /** True if a is strictly later than b (unsigned big-endian comparison). */
    public static boolean after(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, 0, LEN, b, 0, LEN) > 0;
    }
}
