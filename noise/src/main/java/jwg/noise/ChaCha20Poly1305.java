package jwg.noise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;
import javax.crypto.SecretKey;

/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) on byte arrays without allocating: every buffer it needs is made with the
 * instance, which is therefore for one thread at a time ({@link Aead} keeps one per thread). Input and output may be
 * the same array region, which is how transport data is sealed and opened in place.
 *
 * <p>Why not the JCE: SunJCE's cipher has AVX-512 intrinsics for both halves, but every message needs a fresh
 * {@code Cipher.init}, which costs ~1 µs and allocates ~2.2 KB (measured with JMH, bench AeadBench). Here the
 * keystream comes from the same intrinsic ChaCha20 block function when {@code java.base} opens
 * {@code com.sun.crypto.provider} (see {@link ChaCha20}), and Poly1305's block loop is SunJCE's when
 * {@code sun.security.util.math} is exported to us too and the CPU has the IFMA instructions its stub needs (see
 * {@link JdkPoly1305#INTRINSIC_LIKELY}); otherwise each is our own Java, Poly1305 in vector lanes where the JVM has
 * the Vector API ({@link Poly1305Vector}). On an AVX2-only EPYC, SunJCE's loop without its stub held the AEAD to
 * 0.33 GB/s at 1420 B; our scalar loop gives 0.57 GB/s there, and the lanes 0.88 GB/s.
 *
 * <p>Measured (JMH AeadBench, one thread, this 2-core EPYC at 2.6 GHz under other load, so ±15-50 %): at 1420 B
 * seal ~1.7 GB/s and open ~1.5 GB/s with both JDK stubs, 0 B/op; SunJCE's cipher ~0.87 / ~0.76 GB/s at 2.2 KB/op;
 * the pure-Java fallback ~0.34 / ~0.15 GB/s. Our own 26-bit-limb Poly1305 alone ran ~1.2 GB/s, which held the
 * AEAD to ~0.8 GB/s at 1420 B; that is why Poly1305 uses the JDK's loop too when the JVM allows.
 *
 * <p>Opening authenticates first and decrypts only if the tag matches, so a forged message never yields plaintext.
 * The keystream's first block (block 0, which gives the one-time Poly1305 key) comes in the same batch as up to 15
 * blocks of data keystream, which opening keeps until the tag is checked.
 */
public final class ChaCha20Poly1305 {
    public static final int TAG_LEN = 16;
    public static final int KEY_LEN = 32;

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private final ChaCha20 chacha;
    private final Poly1305 poly;
    private int counter;
    private int streamLen;
    private int streamPos;

    /**
     * Uses SunJCE's (intrinsic) ChaCha20 block function when it may, else our own; and SunJCE's Poly1305 loop only
     * where HotSpot is likely to have its stub for it ({@link JdkPoly1305#INTRINSIC_LIKELY}), else our own.
     */
    public ChaCha20Poly1305() {
        this(true, JdkPoly1305.INTRINSIC_LIKELY);
    }

    /**
     * useJdk true: SunJCE's ChaCha20 block and Poly1305 loop whenever the JVM lets us use them, stub or not; false:
     * our own for both (tests, benchmarks).
     */
    ChaCha20Poly1305(boolean useJdk) {
        this(useJdk, useJdk);
    }

    private ChaCha20Poly1305(boolean useJdkBlock, boolean useJdkPoly1305) {
        chacha = new ChaCha20(useJdkBlock);
        poly = new Poly1305(useJdkPoly1305);
    }

    /** An instance that never uses the JDK's block function: what runs without the add-opens flag. */
    public static ChaCha20Poly1305 pureJava() {
        return new ChaCha20Poly1305(false);
    }

    /**
     * Readies Poly1305's vector lanes where the JVM has the Vector API and HotSpot no Poly1305 stub: until this has run
     * (on any thread), every instance uses Poly1305's scalar loop. Takes well under a second of one core; the daemon
     * runs it once traffic wants the lanes ({@link #vectorLanesWanted}). Returns whether the lanes are in use; nothing
     * is done where the CPU has IFMA, since there the AEAD runs SunJCE's Poly1305 loop with its stub.
     */
    public static boolean warmUpVectorLanes() {
        return !JdkPoly1305.INTRINSIC_LIKELY && Poly1305.warmUpLanes();
    }

    /** Whether {@link #warmUpVectorLanes} could put the lanes to use here (the Vector API, no IFMA). */
    public static boolean vectorLanesPossible() {
        return !JdkPoly1305.INTRINSIC_LIKELY && Poly1305.lanesPossible();
    }

    /**
     * Whether some instance has sealed or opened enough (64 MB in messages of 256 B or more) through Poly1305's scalar
     * loop that warming up the lanes is worth it, and they are not warm yet.
     */
    public static boolean vectorLanesWanted() {
        return Poly1305.lanesWanted && !Poly1305.lanesWarm;
    }

    /** Which ChaCha20 and Poly1305 code {@code new ChaCha20Poly1305()} runs, for logs and benchmark reports. */
    public static String implementation() {
        return ChaCha20.implementation() + "; " + Poly1305.implementation(JdkPoly1305.INTRINSIC_LIKELY);
    }

    /** Whether this instance runs the JDK's ChaCha20 block function. */
    public boolean usesJdkBlock() {
        return chacha.usesJdk();
    }

    /** Whether this instance runs the JDK's Poly1305 block loop. */
    public boolean usesJdkPoly1305() {
        return poly.usesJdk();
    }

    /**
     * Seals in[inOff, inOff+len) into out[outOff, outOff+len+16) under nonce 4 zero bytes ‖ little-endian counter
     * (WireGuard's). aad may be null for none.
     */
    public void seal(SecretKey key, long counter, byte[] in, int inOff, int len, byte[] out, int outOff, byte[] aad) {
        seal(AeadKey.words(key), 0, (int) counter, (int) (counter >>> 32), in, inOff, len, out, outOff, aad);
    }

    /**
     * Opens in[inOff, inOff+len) (ciphertext then tag) into out[outOff, outOff+len-16) under the nonce of
     * {@link #seal(SecretKey, long, byte[], int, int, byte[], int, byte[])}. Returns false, never throws, when the
     * input is too short, out of bounds or does not authenticate; out is then untouched, unless it overlaps in at a
     * different offset.
     */
    public boolean open(SecretKey key, long counter, byte[] in, int inOff, int len, byte[] out, int outOff,
                        byte[] aad) {
        return open(AeadKey.words(key), 0, (int) counter, (int) (counter >>> 32), in, inOff, len, out, outOff, aad);
    }

    /** Seal with a key given as 8 words and a nonce given as its 3 little-endian words. */
    void seal(int[] key, int n0, int n1, int n2, byte[] in, int inOff, int len, byte[] out, int outOff,
              byte[] aad) {
        Objects.checkFromIndexSize(inOff, len, in.length);
        Objects.checkFromIndexSize(outOff, len + TAG_LEN, out.length);
        if (in == out && inOff != outOff) {
            System.arraycopy(in, inOff, out, outOff, len); // overlap-safe; from here on it is sealing in place
            inOff = outOff;
        }
        begin(key, n0, n1, n2, len, aad);
        for (int done = 0; done < len; ) {
            done += xorStream(out, outOff + done, in, inOff + done, len - done);
        }
        // One MAC pass over all the ciphertext, still in L1 at transport sizes: the JDK's Poly1305 stub has a fixed
        // cost per call (it computes powers of r), which per-batch calls would pay several times.
        poly.padded(out, outOff, len);
        poly.lengths(aad == null ? 0 : aad.length, len);
        poly.finish(out, outOff + len);
        chacha.wipeKey();
    }

    /** Open with a key given as 8 words and a nonce given as its 3 little-endian words. */
    boolean open(int[] key, int n0, int n1, int n2, byte[] in, int inOff, int len, byte[] out, int outOff,
                 byte[] aad) {
        if (len < TAG_LEN || !Message.inBounds(in, inOff, len) || !Message.inBounds(out, outOff, len - TAG_LEN)) {
            return false;
        }
        int textLen = len - TAG_LEN;
        begin(key, n0, n1, n2, textLen, aad);
        poly.padded(in, inOff, textLen);
        poly.lengths(aad == null ? 0 : aad.length, textLen);
        if (!poly.verify(in, inOff + textLen)) {
            chacha.wipeKey();
            return false;
        }
        if (in == out && inOff != outOff) {
            System.arraycopy(in, inOff, out, outOff, textLen);
            inOff = outOff;
        }
        for (int done = 0; done < textLen; ) {
            done += xorStream(out, outOff + done, in, inOff + done, textLen - done);
        }
        chacha.wipeKey();
        return true;
    }

    /**
     * Keys ChaCha20, makes the first keystream batch, keys Poly1305 from its block 0 and authenticates the AAD;
     * the data keystream then starts at block 1 of the batch.
     */
    private void begin(int[] key, int n0, int n1, int n2, int textLen, byte[] aad) {
        chacha.start(key, n0, n1, n2);
        streamLen = chacha.generate(0, 1 + blocksFor(textLen));
        counter = streamLen / ChaCha20.BLOCK;
        byte[] stream = chacha.stream();
        poly.init(stream, 0);
        LONG_LE.set(stream, 0, 0L); // the one-time Poly1305 key, now held by poly only
        LONG_LE.set(stream, 8, 0L);
        LONG_LE.set(stream, 16, 0L);
        LONG_LE.set(stream, 24, 0L);
        streamPos = ChaCha20.BLOCK;
        if (aad != null) {
            poly.padded(aad, 0, aad.length);
        }
    }

    /**
     * XORs the next keystream bytes into at most len bytes: out[outOff..] = in[inOff..] ^ keystream, refilling the
     * batch first if it is used up. Returns how many bytes it did: the rest of the batch or len, whichever is less,
     * so every piece but the last is a multiple of 64.
     */
    private int xorStream(byte[] out, int outOff, byte[] in, int inOff, int len) {
        if (streamPos == streamLen) {
            streamLen = chacha.generate(counter, blocksFor(len));
            counter += streamLen / ChaCha20.BLOCK;
            streamPos = 0;
        }
        int n = Math.min(len, streamLen - streamPos);
        xor(out, outOff, in, inOff, chacha.stream(), streamPos, n);
        streamPos += n;
        return n;
    }

    /** out = in ^ ks over n bytes, 8 at a time; in and out may be the same region. */
    private static void xor(byte[] out, int outOff, byte[] in, int inOff, byte[] ks, int ksOff, int n) {
        int i = 0;
        for (; i <= n - 8; i += 8) {
            long v = (long) LONG_LE.get(in, inOff + i) ^ (long) LONG_LE.get(ks, ksOff + i);
            LONG_LE.set(out, outOff + i, v);
        }
        for (; i < n; i++) {
            out[outOff + i] = (byte) (in[inOff + i] ^ ks[ksOff + i]);
        }
    }

    private static int blocksFor(int bytes) {
        return (bytes + ChaCha20.BLOCK - 1) / ChaCha20.BLOCK;
    }
}
