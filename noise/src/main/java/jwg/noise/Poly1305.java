package jwg.noise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The Poly1305 one-time authenticator of RFC 8439 §2.5, fed only whole 16-byte blocks (the AEAD pads everything it
 * authenticates to 16 bytes, §2.8). Not thread-safe: one instance per thread, reused for every message.
 *
 * <p>Numbers mod 2^130-5 are five 26-bit limbs in longs: a limb product is under 2^56 and a sum of five (with the
 * 5·r limbs that fold 2^130 back to 5) under 2^59, so one block is 25 plain {@code long} multiplies and a carry chain,
 * with no 128-bit arithmetic, which Java lacks.
 *
 * <p>Three block loops: SunJCE's where HotSpot has its stub ({@link JdkPoly1305}); else {@link Poly1305Vector}'s four
 * lanes for runs of at least {@link Poly1305Vector#MIN_LEN} bytes, where the JVM was started with
 * {@code --add-modules jdk.incubator.vector} and once {@link Poly1305Vector#warmUp} has compiled them and checked them
 * against this class's loop; else, and for every shorter run, this class's own loop.
 */
final class Poly1305 {
    static final int TAG_LEN = 16;

    private static final long M26 = 0x3ffffff;
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private long r0, r1, r2, r3, r4;
    private long h0, h1, h2, h3, h4;
    private long pad0, pad1;
    private final byte[] last = new byte[TAG_LEN];
    /** Whether jdk.incubator.vector is in the boot layer: without it {@link Poly1305Vector} cannot even load. */
    private static final boolean VECTOR_MODULE =
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    /**
     * Set once {@link Poly1305Vector#warmUp} has had C2 compile the lanes and checked them against the scalar loop.
     * Until then every instance runs the scalar loop: before C2, the Vector API boxes every vector (~100 objects a
     * block), and a daemon whose first packets went through the lanes answered its first packet after 90 ms instead
     * of 39 (bench/compare, same run).
     */
    static volatile boolean lanesWarm;
    /**
     * What an instance carries through its scalar loop, in runs the lanes would take, before it asks for them: about
     * 0.3 s of a bulk transfer here, and over twice the 28 MB the daemon's start-up warm-up runs through its own.
     */
    static final long WANT_LANES_AFTER = 64L << 20;
    /**
     * Set once some instance has carried {@link #WANT_LANES_AFTER} bytes through its scalar loop in runs the lanes
     * would take: traffic worth their warm-up, which a daemon runs only then
     * ({@link ChaCha20Poly1305#warmUpVectorLanes}).
     */
    static volatile boolean lanesWanted;
    /** Bytes of long runs this instance's scalar loop took while the lanes were not warm. */
    private long scalarBytes;

    /** SunJCE's intrinsic block loop, or null for ours. */
    private final JdkPoly1305 jdk;
    /** Whether this instance may run the lanes, once they are warm. */
    private final boolean lanesAllowed;
    /** Our loop in four vector lanes for long runs: made on first use, or given. */
    private Poly1305Vector lanes;
    /** h handed to and from the lanes. */
    private long[] laneH;
    /** Whether the lanes hold the powers of the current key's r. */
    private boolean lanesKeyed;

    /**
     * useJdk: SunJCE's block loop if the JVM lets us use it ({@link JdkPoly1305}); false, or where it may not: our
     * loop, in vector lanes once they are warm.
     */
    Poly1305(boolean useJdk) {
        this.jdk = useJdk && JdkPoly1305.AVAILABLE ? new JdkPoly1305() : null;
        this.lanesAllowed = jdk == null && VECTOR_MODULE;
    }

    /** SunJCE's loop, or with null our scalar loop alone. */
    Poly1305(JdkPoly1305 jdk) {
        this.jdk = jdk;
        this.lanesAllowed = false;
    }

    /** Our loop, in the given lanes for long runs from the start (tests). */
    Poly1305(Poly1305Vector lanes) {
        this.jdk = null;
        this.lanesAllowed = true;
        this.lanes = lanes;
        this.laneH = new long[5];
    }

    /**
     * Readies the lanes for every instance that may use them ({@link Poly1305Vector#warmUp}); returns whether they
     * are in use (never without the Vector API).
     */
    static boolean warmUpLanes() {
        return VECTOR_MODULE && Poly1305Vector.warmUp();
    }

    /** Whether this JVM can run the lanes at all (it has the Vector API). */
    static boolean lanesPossible() {
        return VECTOR_MODULE;
    }

    /** What {@code new Poly1305(useJdk)} runs. */
    static String implementation(boolean useJdk) {
        if (useJdk && JdkPoly1305.AVAILABLE) {
            return "SunJCE Poly1305.processMultipleBlocks (intrinsic where HotSpot has one)";
        }
        return VECTOR_MODULE ? "jwg Poly1305, in four 64-bit vector lanes once warmed up (jdk.incubator.vector)"
                : "jwg scalar Poly1305";
    }

    /** Whether long runs go through the vector lanes now. */
    boolean usesLanes() {
        return lanes != null || lanesAllowed && lanesWarm;
    }

    /** Whether the lanes may run now, making them on first use. */
    private boolean lanesReady() {
        if (lanes == null && lanesAllowed && lanesWarm) {
            lanes = new Poly1305Vector();
            laneH = new long[5];
        }
        return lanes != null;
    }

    boolean usesJdk() {
        return jdk != null;
    }

    /** Starts a MAC with the 32-byte one-time key key[off, off+32): r (clamped, §2.5) then s. */
    void init(byte[] key, int off) {
        long lo = (long) LONG_LE.get(key, off) & 0x0ffffffc0fffffffL;
        long hi = (long) LONG_LE.get(key, off + 8) & 0x0ffffffc0ffffffcL;
        r0 = lo & M26;
        r1 = (lo >>> 26) & M26;
        r2 = ((lo >>> 52) | (hi << 12)) & M26;
        r3 = (hi >>> 14) & M26;
        r4 = hi >>> 40;
        if (jdk != null) {
            long[] r = jdk.r();
            r[0] = r0; r[1] = r1; r[2] = r2; r[3] = r3; r[4] = r4;
            Arrays.fill(jdk.acc(), 0);
        }
        lanesKeyed = false;
        pad0 = (long) LONG_LE.get(key, off + 16);
        pad1 = (long) LONG_LE.get(key, off + 24);
        h0 = h1 = h2 = h3 = h4 = 0;
    }

    /** Authenticates m[off, off+len), zero-padded to a multiple of 16 as the AEAD construction does. */
    void padded(byte[] m, int off, int len) {
        int whole = len & ~(TAG_LEN - 1);
        blocks(m, off, whole);
        if (whole < len) {
            Arrays.fill(last, (byte) 0);
            System.arraycopy(m, off + whole, last, 0, len - whole);
            blocks(last, 0, TAG_LEN);
        }
    }

    /** Authenticates the AEAD's final block: the AAD and ciphertext lengths in bytes, little-endian 64-bit each. */
    void lengths(long aadLen, long textLen) {
        LONG_LE.set(last, 0, aadLen);
        LONG_LE.set(last, 8, textLen);
        blocks(last, 0, TAG_LEN);
    }

    /** h = (h + block) · r mod p for each 16-byte block of m[off, off+len); len is a multiple of 16. */
    private void blocks(byte[] m, int off, int len) {
        if (jdk != null) {
            jdk.blocks(m, off, len);
            return;
        }
        if (len >= Poly1305Vector.MIN_LEN && !lanesReady()) {
            if (lanesAllowed && !lanesWanted && (scalarBytes += len) >= WANT_LANES_AFTER) {
                lanesWanted = true;
            }
        } else if (len >= Poly1305Vector.MIN_LEN) {
            if (!lanesKeyed) {
                lanes.init(r0, r1, r2, r3, r4);
                lanesKeyed = true;
            }
            int run = len & ~63;
            long[] h = laneH;
            h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
            lanes.blocks(h, m, off, run);
            h0 = h[0]; h1 = h[1]; h2 = h[2]; h3 = h[3]; h4 = h[4];
            Arrays.fill(h, 0);
            off += run;
            len -= run;
        }
        long a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4;
        final long q0 = r0, q1 = r1, q2 = r2, q3 = r3, q4 = r4;
        final long s1 = q1 * 5, s2 = q2 * 5, s3 = q3 * 5, s4 = q4 * 5;
        for (int end = off + len; off < end; off += TAG_LEN) {
            long lo = (long) LONG_LE.get(m, off);
            long hi = (long) LONG_LE.get(m, off + 8);
            a0 += lo & M26;
            a1 += (lo >>> 26) & M26;
            a2 += ((lo >>> 52) | (hi << 12)) & M26;
            a3 += (hi >>> 14) & M26;
            a4 += (hi >>> 40) | (1L << 24); // the 2^128 bit every full block carries

            long d0 = a0 * q0 + a1 * s4 + a2 * s3 + a3 * s2 + a4 * s1;
            long d1 = a0 * q1 + a1 * q0 + a2 * s4 + a3 * s3 + a4 * s2;
            long d2 = a0 * q2 + a1 * q1 + a2 * q0 + a3 * s4 + a4 * s3;
            long d3 = a0 * q3 + a1 * q2 + a2 * q1 + a3 * q0 + a4 * s4;
            long d4 = a0 * q4 + a1 * q3 + a2 * q2 + a3 * q1 + a4 * q0;

            // Partial carry: limbs end up at most a little over 26 bits, enough headroom for the next block.
            d1 += d0 >>> 26;
            d2 += d1 >>> 26;
            d3 += d2 >>> 26;
            d4 += d3 >>> 26;
            long c = d4 >>> 26;
            a0 = (d0 & M26) + c * 5;
            a1 = (d1 & M26) + (a0 >>> 26);
            a0 &= M26;
            a2 = d2 & M26;
            a3 = d3 & M26;
            a4 = d4 & M26;
        }
        h0 = a0;
        h1 = a1;
        h2 = a2;
        h3 = a3;
        h4 = a4;
    }

    /** Writes the tag (h mod p + s) mod 2^128 to out[off, off+16) and forgets the key. */
    void finish(byte[] out, int off) {
        long lo = tagLow();
        long hi = tagHigh(lo);
        LONG_LE.set(out, off, lo);
        LONG_LE.set(out, off + 8, hi);
        wipe();
    }

    /**
     * Whether the tag equals expected[off, off+16), in time independent of where they differ; forgets the key. The
     * caller has checked the bounds.
     */
    boolean verify(byte[] expected, int off) {
        long lo = tagLow();
        long hi = tagHigh(lo);
        long diff = (lo ^ (long) LONG_LE.get(expected, off)) | (hi ^ (long) LONG_LE.get(expected, off + 8));
        wipe();
        return diff == 0;
    }

    /** Fully reduces h mod 2^130-5 into h0..h4, without branches on h. */
    private void reduce() {
        if (jdk != null) {
            long[] acc = jdk.acc();
            h0 = acc[0]; h1 = acc[1]; h2 = acc[2]; h3 = acc[3]; h4 = acc[4];
        }
        // A pass may leave one limb just over 26 bits (h1 at 2^26, or any limb when the JDK's loop left them
        // larger); three passes leave every limb under 2^26.
        carry();
        carry();
        carry();
        // h < 2^130 now; h - p = h + 5 - 2^130 is the answer iff it does not go negative.
        long c;
        long g0 = h0 + 5;
        c = g0 >>> 26; g0 &= M26;
        long g1 = h1 + c;
        c = g1 >>> 26; g1 &= M26;
        long g2 = h2 + c;
        c = g2 >>> 26; g2 &= M26;
        long g3 = h3 + c;
        c = g3 >>> 26; g3 &= M26;
        long g4 = h4 + c - (1L << 26);
        long keepH = g4 >> 63; // all ones when h < p
        h0 = (h0 & keepH) | (g0 & ~keepH);
        h1 = (h1 & keepH) | (g1 & ~keepH);
        h2 = (h2 & keepH) | (g2 & ~keepH);
        h3 = (h3 & keepH) | (g3 & ~keepH);
        h4 = (h4 & keepH) | (g4 & ~keepH & M26);
    }

    private void carry() {
        // Arithmetic shifts: exact for limbs of either sign, should the JDK's loop ever leave one negative.
        long c;
        c = h0 >> 26; h0 &= M26; h1 += c;
        c = h1 >> 26; h1 &= M26; h2 += c;
        c = h2 >> 26; h2 &= M26; h3 += c;
        c = h3 >> 26; h3 &= M26; h4 += c;
        c = h4 >> 26; h4 &= M26; h0 += c * 5;
        c = h0 >> 26; h0 &= M26; h1 += c;
    }

    private long tagLow() {
        reduce();
        return (h0 | (h1 << 26) | (h2 << 52)) + pad0;
    }

    /** The tag's upper 64 bits, given its lower 64 bits (for the carry out of them). */
    private long tagHigh(long tagLow) {
        long lowBeforePad = h0 | (h1 << 26) | (h2 << 52);
        // The carry out of lowBeforePad + pad0, computed without a branch on secret data.
        long carry = ((lowBeforePad & pad0) | ((lowBeforePad | pad0) & ~tagLow)) >>> 63;
        return ((h2 >>> 12) | (h3 << 14) | (h4 << 40)) + pad1 + carry;
    }

    /** Whether this and other give the same tag for msg (whole blocks) under key; for vetting the JDK's loop. */
    boolean sameTag(Poly1305 other, byte[] key, byte[] msg) {
        byte[] a = new byte[TAG_LEN];
        byte[] b = new byte[TAG_LEN];
        init(key, 0);
        padded(msg, 0, msg.length & ~(TAG_LEN - 1));
        finish(a, 0);
        other.init(key, 0);
        other.padded(msg, 0, msg.length & ~(TAG_LEN - 1));
        other.finish(b, 0);
        return Arrays.equals(a, b);
    }

    private void wipe() {
        if (jdk != null) {
            Arrays.fill(jdk.acc(), 0);
            Arrays.fill(jdk.r(), 0);
        }
        if (lanes != null) {
            lanes.wipe();
            lanesKeyed = false;
        }
        r0 = r1 = r2 = r3 = r4 = 0;
        h0 = h1 = h2 = h3 = h4 = 0;
        pad0 = pad1 = 0;
    }
}
