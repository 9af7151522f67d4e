package jwg.noise;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Poly1305's block loop four blocks at a time, in the four 64-bit lanes of 256-bit vectors (the incubating Vector
 * API), for CPUs where HotSpot has no Poly1305 stub: AVX2 without AVX-512 IFMA or AVX-IFMA. {@link Poly1305} hands it
 * the long runs of whole blocks and keeps everything else. Not thread-safe: one per {@link Poly1305}.
 *
 * <p>The arithmetic. Lane j accumulates blocks j, j+4, j+8, ... by Horner's rule in r^4: {@code A = (A + m)·r^4},
 * except that after the last group lane j is multiplied by r^(4-j) instead; the lanes summed then give exactly the serial
 * {@code h = (h + m)·r} over the same blocks. The caller's h enters lane 0 before the first group. Numbers are five
 * 26-bit limbs, as in {@link Poly1305}: accumulator limbs stay under 2^28 and the r^k limbs (times 5 where 2^130 folds
 * back) under 2^29, so every product fits in 57 bits and a sum of five in 60.
 *
 * <p>Why the {@code & 0xFFFFFFFF} on both sides of every product, which changes no value here: AVX2 has no 64-bit
 * lane multiply, and C2 emulates one with three 32-bit multiplies, shifts and adds. Masked operands let C2 (JDK 24 and
 * later) emit the single 32×32→64 multiply (vpmuludq) instead; measured ~1.4 GB/s without the masks and ~2 GB/s with
 * them over 1408 B on an AVX2 EPYC, against ~0.95 GB/s for the scalar loop.
 *
 * <p>Why one long method with no helpers of our own: C2 stops inlining in a method this large once its node count
 * passes a cutoff, except for methods marked force-inline, which the Vector API's are and ours cannot be. A vector
 * passed to a helper that was not inlined is boxed on the heap: a first version with a product helper ran at
 * ~0.1 GB/s and allocated per block.
 */
final class Poly1305Vector {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final long M26 = 0x3ffffff;
    private static final long U32 = 0xFFFFFFFFL;
    /** From two vectors of two blocks each (low word, high word, low, high): the four low words, then the high. */
    private static final VectorShuffle<Long> LOW = VectorShuffle.fromValues(L, 0, 2, 4, 6);
    private static final VectorShuffle<Long> HIGH = VectorShuffle.fromValues(L, 1, 3, 5, 7);
    /** The smallest run worth the vectors: below it, computing r^2..r^4 costs more than the lanes save. */
    static final int MIN_LEN = 256;
    /** Warm-up messages sent back to back: past C2's thresholds for {@link #blocks} at bin/jwg's scaling (0.002). */
    private static final int UNPACED_MESSAGES = 30;
    private static final long PACE_MS = 5;
    private static final long FAST_NS = 5_000;
    /** Past this the lanes stay off: C2 did not compile them, or compiled them without the vector intrinsics. */
    private static final long WARM_UP_LIMIT_NS = 120_000_000_000L;

    /** r^1..r^4, five limbs each: pow[5(k-1) + i] is limb i of r^k. */
    private final long[] pow = new long[20];
    /** The same transposed for the final step: lanes[4i + j] is limb i of r^(4-j). */
    private final long[] lanes = new long[20];

    /**
     * Runs the lanes until C2 has compiled them, checks the compiled lanes against the scalar loop and, if they agree,
     * lets every {@link Poly1305} that may use them do so. Returns whether they are in use; false also where C2 never
     * made them fast within {@link #WARM_UP_LIMIT_NS} or the thread was interrupted.
     *
     * <p>Why paced: until C2 has compiled {@link #blocks}, every vector is boxed (~75 KB of garbage per 256 B
     * message). A tight loop of 1 KB messages, with bin/jwg's lower compile threshold, made 24-34 MB of it in ~300 ms
     * while the compiler worked: 5-7 young collections, each a pause for the traffic that asked for the lanes, and on
     * a loaded 2-core CI machine one of them took 33 ms. Once the thresholds are reached, one message per
     * {@link #PACE_MS} ms keeps the profile going while C2 compiles; a message that takes under {@link #FAST_NS}
     * (compiled: ~0.2 µs; boxed: tens of µs) three times running means the compiled code is in use.
     */
    static synchronized boolean warmUp() {
        if (!Poly1305.lanesWarm) {
            Poly1305Vector v = new Poly1305Vector();
            byte[] msg = new byte[MIN_LEN];
            long[] h = new long[5];
            long start = System.nanoTime();
            int fast = 0;
            for (int i = 0; fast < 3; i++) {
                if (System.nanoTime() - start > WARM_UP_LIMIT_NS) {
                    return false;
                }
                msg[i % MIN_LEN] = (byte) i;
                v.init(0x3ffffff, 0x3fffffe, 0x3ffffff, 0xffffff, i & 0x3ffffff);
                long t0 = System.nanoTime();
                v.blocks(h, msg, 0, msg.length);
                if (System.nanoTime() - t0 < FAST_NS) {
                    fast++;
                } else {
                    fast = 0;
                    if (i >= UNPACED_MESSAGES) {
                        try {
                            Thread.sleep(PACE_MS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return false;
                        }
                    }
                }
            }
            Poly1305.lanesWarm = works();
        }
        return Poly1305.lanesWarm;
    }

    /** Whether the lanes' result matches the scalar loop's on a test message. */
    static boolean works() {
        try {
            byte[] key = new byte[32];
            byte[] msg = new byte[1024];
            for (int i = 0; i < key.length; i++) {
                key[i] = (byte) (0xff - i * 7);
            }
            for (int i = 0; i < msg.length; i++) {
                msg[i] = (byte) (i * 131 + 17);
            }
            Poly1305 scalar = new Poly1305((JdkPoly1305) null);
            Poly1305 vector = new Poly1305(new Poly1305Vector());
            return scalar.sameTag(vector, key, msg);
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Keys the lanes from r's limbs (as {@link Poly1305} holds them): r^2, r^3 and r^4 are computed here. */
    void init(long r0, long r1, long r2, long r3, long r4) {
        long[] p = pow;
        p[0] = r0; p[1] = r1; p[2] = r2; p[3] = r3; p[4] = r4;
        multiply(p, 5, 0, 0);
        multiply(p, 10, 5, 0);
        multiply(p, 15, 10, 0);
        for (int limb = 0; limb < 5; limb++) {
            for (int lane = 0; lane < 4; lane++) {
                lanes[4 * limb + lane] = p[5 * (3 - lane) + limb];
            }
        }
    }

    /** p[d..d+5) = p[a..a+5) · p[b..b+5) mod 2^130-5, limbs left as the scalar loop leaves them. */
    private static void multiply(long[] p, int d, int a, int b) {
        long a0 = p[a], a1 = p[a + 1], a2 = p[a + 2], a3 = p[a + 3], a4 = p[a + 4];
        long q0 = p[b], q1 = p[b + 1], q2 = p[b + 2], q3 = p[b + 3], q4 = p[b + 4];
        long s1 = q1 * 5, s2 = q2 * 5, s3 = q3 * 5, s4 = q4 * 5;
        long d0 = a0 * q0 + a1 * s4 + a2 * s3 + a3 * s2 + a4 * s1;
        long d1 = a0 * q1 + a1 * q0 + a2 * s4 + a3 * s3 + a4 * s2;
        long d2 = a0 * q2 + a1 * q1 + a2 * q0 + a3 * s4 + a4 * s3;
        long d3 = a0 * q3 + a1 * q2 + a2 * q1 + a3 * q0 + a4 * s4;
        long d4 = a0 * q4 + a1 * q3 + a2 * q2 + a3 * q1 + a4 * q0;
        d1 += d0 >>> 26;
        d2 += d1 >>> 26;
        d3 += d2 >>> 26;
        d4 += d3 >>> 26;
        long h0 = (d0 & M26) + (d4 >>> 26) * 5;
        p[d] = h0 & M26;
        p[d + 1] = (d1 & M26) + (h0 >>> 26);
        p[d + 2] = d2 & M26;
        p[d + 3] = d3 & M26;
        p[d + 4] = d4 & M26;
    }

    /**
     * h = h·r^n + Σ m_i·r^(n-i+1) over the n = len/16 blocks of m[off, off+len), len a positive multiple of 64,
     * with h given and returned in h[0..5) as five limbs (in: each under 2^27; out: as the scalar loop leaves them).
     */
    void blocks(long[] h, byte[] m, int off, int len) {
        LongVector m26 = LongVector.broadcast(L, M26);
        LongVector bit128 = LongVector.broadcast(L, 1L << 24);
        // Every constant operand as a vector made once: each .and(U32) or .mul(5) written with the scalar inlines the
        // Vector API's broadcast again, and with ~40 of them C2 needed 43 MB for a moment to compile this method (its
        // largest compilation, on the first bulk transfer); 37 MB this way, no slower (C2's memory per compilation:
        // -XX:CompileCommand=MemStat).
        LongVector u32 = LongVector.broadcast(L, U32);
        LongVector five = LongVector.broadcast(L, 5);
        // The multipliers, masked once here: C2 sees the mask wherever the value is used.
        long[] p = pow;
        LongVector r0 = LongVector.broadcast(L, p[15]).and(u32);
        LongVector r1 = LongVector.broadcast(L, p[16]).and(u32);
        LongVector r2 = LongVector.broadcast(L, p[17]).and(u32);
        LongVector r3 = LongVector.broadcast(L, p[18]).and(u32);
        LongVector r4 = LongVector.broadcast(L, p[19]).and(u32);
        LongVector s1 = r1.mul(five).and(u32);
        LongVector s2 = r2.mul(five).and(u32);
        LongVector s3 = r3.mul(five).and(u32);
        LongVector s4 = r4.mul(five).and(u32);
        LongVector zero = LongVector.zero(L);
        LongVector a0 = zero.withLane(0, h[0]);
        LongVector a1 = zero.withLane(0, h[1]);
        LongVector a2 = zero.withLane(0, h[2]);
        LongVector a3 = zero.withLane(0, h[3]);
        LongVector a4 = zero.withLane(0, h[4]);
        // Each group: A += m, then A ·= r^4; after the last group, A ·= (r^4, r^3, r^2, r) lane by lane instead.
        // One copy of each step keeps the method small enough to compile quickly and with little memory: with a
        // separate first group and a separate last product it took C2 ~40 MB for a moment, at every start.
        for (int last = off + len - 64; ; off += 64) {
            LongVector w01 = ByteVector.fromArray(B, m, off).reinterpretAsLongs();
            LongVector w23 = ByteVector.fromArray(B, m, off + 32).reinterpretAsLongs();
            LongVector lo = w01.rearrange(LOW, w23);
            LongVector hi = w01.rearrange(HIGH, w23);
            a0 = a0.add(lo.and(m26));
            a1 = a1.add(lo.lanewise(VectorOperators.LSHR, 26).and(m26));
            a2 = a2.add(lo.lanewise(VectorOperators.LSHR, 52).or(hi.lanewise(VectorOperators.LSHL, 12)).and(m26));
            a3 = a3.add(hi.lanewise(VectorOperators.LSHR, 14).and(m26));
            a4 = a4.add(hi.lanewise(VectorOperators.LSHR, 40).or(bit128));
            if (off == last) {
                long[] q = lanes;
                r0 = LongVector.fromArray(L, q, 0).and(u32);
                r1 = LongVector.fromArray(L, q, 4).and(u32);
                r2 = LongVector.fromArray(L, q, 8).and(u32);
                r3 = LongVector.fromArray(L, q, 12).and(u32);
                r4 = LongVector.fromArray(L, q, 16).and(u32);
                s1 = r1.mul(five).and(u32);
                s2 = r2.mul(five).and(u32);
                s3 = r3.mul(five).and(u32);
                s4 = r4.mul(five).and(u32);
            }
            LongVector x0 = a0.and(u32), x1 = a1.and(u32), x2 = a2.and(u32), x3 = a3.and(u32), x4 = a4.and(u32);
            LongVector d0 = x0.mul(r0).add(x1.mul(s4)).add(x2.mul(s3)).add(x3.mul(s2)).add(x4.mul(s1));
            LongVector d1 = x0.mul(r1).add(x1.mul(r0)).add(x2.mul(s4)).add(x3.mul(s3)).add(x4.mul(s2));
            LongVector d2 = x0.mul(r2).add(x1.mul(r1)).add(x2.mul(r0)).add(x3.mul(s4)).add(x4.mul(s3));
            LongVector d3 = x0.mul(r3).add(x1.mul(r2)).add(x2.mul(r1)).add(x3.mul(r0)).add(x4.mul(s4));
            LongVector d4 = x0.mul(r4).add(x1.mul(r3)).add(x2.mul(r2)).add(x3.mul(r1)).add(x4.mul(r0));
            // The scalar loop's partial carry, lane by lane.
            d1 = d1.add(d0.lanewise(VectorOperators.LSHR, 26));
            d2 = d2.add(d1.lanewise(VectorOperators.LSHR, 26));
            d3 = d3.add(d2.lanewise(VectorOperators.LSHR, 26));
            d4 = d4.add(d3.lanewise(VectorOperators.LSHR, 26));
            LongVector c0 = d0.and(m26).add(d4.lanewise(VectorOperators.LSHR, 26).mul(five));
            a0 = c0.and(m26);
            a1 = d1.and(m26).add(c0.lanewise(VectorOperators.LSHR, 26));
            a2 = d2.and(m26);
            a3 = d3.and(m26);
            a4 = d4.and(m26);
            if (off == last) {
                break;
            }
        }

        // The lanes summed (each limb under 2^27, so four fit easily), then one more partial carry.
        long e0 = a0.reduceLanes(VectorOperators.ADD);
        long e1 = a1.reduceLanes(VectorOperators.ADD);
        long e2 = a2.reduceLanes(VectorOperators.ADD);
        long e3 = a3.reduceLanes(VectorOperators.ADD);
        long e4 = a4.reduceLanes(VectorOperators.ADD);
        e1 += e0 >>> 26;
        e2 += e1 >>> 26;
        e3 += e2 >>> 26;
        e4 += e3 >>> 26;
        long c0 = (e0 & M26) + (e4 >>> 26) * 5;
        h[0] = c0 & M26;
        h[1] = (e1 & M26) + (c0 >>> 26);
        h[2] = e2 & M26;
        h[3] = e3 & M26;
        h[4] = e4 & M26;
    }

    /** Forgets the powers of r. */
    void wipe() {
        Arrays.fill(pow, 0);
        Arrays.fill(lanes, 0);
    }
}
