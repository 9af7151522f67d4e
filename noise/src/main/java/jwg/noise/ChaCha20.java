package jwg.noise;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The ChaCha20 keystream of RFC 8439 §2.3-2.4 for one key and 96-bit nonce at a time, produced in batches of up to
 * {@link #BATCH} bytes into a reused buffer. Not thread-safe: one instance per thread.
 *
 * <p>The block function is SunJCE's {@code ChaCha20Cipher.implChaCha20Block} when {@code java.base} opens
 * {@code com.sun.crypto.provider} to us: HotSpot replaces it with an AVX-512 stub that fills 1024 bytes (16 blocks)
 * per call, and C2 inlines the constant method handle down to the stub. Otherwise (package not opened, or the method
 * gone in some later JDK) it is our own Java block function. The JDK method reads the 16-word state and returns how
 * many bytes it wrote (64 in its Java form), so both forms fit the same loop; at class load a block from each form is
 * compared, and a JDK method that disagrees is not used.
 */
final class ChaCha20 {
    /** The largest batch: what the AVX-512 stub writes per call (16 blocks). */
    static final int BATCH = 1024;
    static final int BLOCK = 64;

    private static final int C0 = 0x61707865;
    private static final int C1 = 0x3320646e;
    private static final int C2 = 0x79622d32;
    private static final int C3 = 0x6b206574;
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** SunJCE's block function, (int[] state, byte[] out) int, or null when we may not or should not use it. */
    private static final MethodHandle JDK_BLOCK = JdkBlock.find();

    private final int[] state = new int[16];
    private final byte[] stream = new byte[BATCH];
    private final boolean useJdk;

    /** useJdk: the JDK's block function if it is available; false forces our own (tests and benchmarks). */
    ChaCha20(boolean useJdk) {
        this.useJdk = useJdk && JDK_BLOCK != null;
    }

    /** Which block function instances made with useJdk = true run. */
    static String implementation() {
        return JDK_BLOCK != null ? "SunJCE ChaCha20Cipher.implChaCha20Block (intrinsic where HotSpot has one)"
                : "jwg pure-Java ChaCha20 block function";
    }

    boolean usesJdk() {
        return useJdk;
    }

    /** Sets the key (8 little-endian words) and the nonce's three words; the block counter is set per batch. */
    void start(int[] key, int n0, int n1, int n2) {
        int[] s = state;
        s[0] = C0;
        s[1] = C1;
        s[2] = C2;
        s[3] = C3;
        System.arraycopy(key, 0, s, 4, 8);
        s[13] = n0;
        s[14] = n1;
        s[15] = n2;
    }

    /** The batch buffer that {@link #generate} fills from index 0. */
    byte[] stream() {
        return stream;
    }

    /**
     * Writes the keystream from block {@code counter} on into {@link #stream()}: at least one block, at most
     * {@link #BATCH} bytes, and (our own function) no more blocks than {@code blocksWanted}. Returns the number of
     * bytes written, a multiple of 64.
     */
    int generate(int counter, int blocksWanted) {
        state[12] = counter;
        if (useJdk) {
            return jdkBlock(state, stream);
        }
        int blocks = Math.max(1, Math.min(blocksWanted, BATCH / BLOCK));
        for (int b = 0; b < blocks; b++) {
            block(state, counter + b, stream, b * BLOCK);
        }
        return blocks * BLOCK;
    }

    /** Forgets the key: the state holds it in the clear. */
    void wipeKey() {
        Arrays.fill(state, 4, 12, 0);
    }

    private static int jdkBlock(int[] state, byte[] out) {
        try {
            return (int) JDK_BLOCK.invokeExact(state, out);
        } catch (Throwable t) {
            throw new IllegalStateException("SunJCE ChaCha20 block function failed", t);
        }
    }

    /** One 64-byte block of keystream (RFC 8439 §2.3) for the key and nonce in s and the given counter. */
    static void block(int[] s, int counter, byte[] out, int off) {
        int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
        int x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
        int x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
        int x12 = counter, x13 = s[13], x14 = s[14], x15 = s[15];
        // Locals rather than an array, so that C2 keeps all sixteen words in registers through the 20 rounds.
        for (int i = 0; i < 10; i++) {
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);

            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
        }
        INT_LE.set(out, off, x0 + C0);
        INT_LE.set(out, off + 4, x1 + C1);
        INT_LE.set(out, off + 8, x2 + C2);
        INT_LE.set(out, off + 12, x3 + C3);
        INT_LE.set(out, off + 16, x4 + s[4]);
        INT_LE.set(out, off + 20, x5 + s[5]);
        INT_LE.set(out, off + 24, x6 + s[6]);
        INT_LE.set(out, off + 28, x7 + s[7]);
        INT_LE.set(out, off + 32, x8 + s[8]);
        INT_LE.set(out, off + 36, x9 + s[9]);
        INT_LE.set(out, off + 40, x10 + s[10]);
        INT_LE.set(out, off + 44, x11 + s[11]);
        INT_LE.set(out, off + 48, x12 + counter);
        INT_LE.set(out, off + 52, x13 + s[13]);
        INT_LE.set(out, off + 56, x14 + s[14]);
        INT_LE.set(out, off + 60, x15 + s[15]);
    }

    /** Finding and vetting SunJCE's block function, once. */
    private static final class JdkBlock {
        static MethodHandle find() {
            MethodHandle mh;
            try {
                Class<?> c = Class.forName("com.sun.crypto.provider.ChaCha20Cipher");
                MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
                mh = lookup.findStatic(c, "implChaCha20Block",
                        MethodType.methodType(int.class, int[].class, byte[].class));
            } catch (ReflectiveOperationException | RuntimeException notOpenedOrGone) {
                return null; // --add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED is missing, or the JDK changed
            }
            return agrees(mh) ? mh : null;
        }

        /** Same keystream as ours for a fixed state and a counter that makes the JDK's first block nontrivial. */
        private static boolean agrees(MethodHandle mh) {
            int[] s = new int[16];
            for (int i = 4; i < 16; i++) {
                s[i] = 0x9e3779b9 * i;
            }
            s[0] = C0;
            s[1] = C1;
            s[2] = C2;
            s[3] = C3;
            byte[] theirs = new byte[BATCH];
            byte[] ours = new byte[BLOCK];
            try {
                int n = (int) mh.invokeExact(s, theirs);
                if (n < BLOCK || n > BATCH || n % BLOCK != 0) {
                    return false;
                }
            } catch (Throwable t) {
                return false;
            }
            block(s, s[12], ours, 0);
            return Arrays.equals(ours, 0, BLOCK, theirs, 0, BLOCK);
        }
    }
}
