package jwg.noise;

import static jwg.noise.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ChaCha20Poly1305} in both forms (SunJCE's block function, which surefire's add-opens enables, and our own)
 * against SunJCE's whole cipher on edge-case and random inputs; its {@link Poly1305} against
 * BouncyCastle's; and the failure paths.
 */
class ChaCha20Poly1305Test {
    private static final SplittableRandom RANDOM = new SplittableRandom(0xC4AC4A20L);

    static Stream<Boolean> forms() {
        return Stream.of(true, false);
    }

    @Test
    void surefireOpensTheJdkBlockFunction() {
        ChaCha20Poly1305 forced = new ChaCha20Poly1305(true);
        assertTrue(forced.usesJdkBlock() && forced.usesJdkPoly1305(), "needs --add-opens "
                + "java.base/com.sun.crypto.provider=ALL-UNNAMED --add-exports java.base/sun.security.util.math="
                + "ALL-UNNAMED; running " + ChaCha20Poly1305.implementation());
        // By default, SunJCE's Poly1305 loop only where HotSpot has its stub; ours elsewhere.
        ChaCha20Poly1305 c = new ChaCha20Poly1305();
        assertTrue(c.usesJdkBlock());
        assertEquals(JdkPoly1305.INTRINSIC_LIKELY, c.usesJdkPoly1305(), ChaCha20Poly1305.implementation());
        assertFalse(ChaCha20Poly1305.pureJava().usesJdkBlock());
        assertFalse(ChaCha20Poly1305.pureJava().usesJdkPoly1305());
    }

    /**
     * HotSpot's stubs replace the JDK methods only in C2-compiled code, which the short tests above may never reach:
     * run the keystream until the stub shows (a 1024-byte batch), check it block by block against ours, then
     * warm the whole AEAD up and cross-check it against the JCE.
     */
    @Test
    void compiledStubsMatchOurCodeAndTheJce() {
        ChaCha20 stream = new ChaCha20(true);
        int[] state = new int[16];
        System.arraycopy(words(bytes(32)), 0, state, 4, 8);
        stream.start(Arrays.copyOfRange(state, 4, 12), 5, 6, 7);
        state[13] = 5;
        state[14] = 6;
        state[15] = 7;
        int n = 0;
        for (int i = 0; i < 300_000 && n != ChaCha20.BATCH; i++) {
            n = stream.generate(-3, 16); // a counter that wraps past 2^32 within the batch
        }
        Assumptions.assumeTrue(n == ChaCha20.BATCH, "no 1024-byte ChaCha20 stub in this JVM");
        byte[] ours = new byte[ChaCha20.BATCH];
        for (int b = 0; b < 16; b++) {
            ChaCha20.block(state, -3 + b, ours, 64 * b);
        }
        assertArrayEquals(ours, stream.stream());

        ChaCha20Poly1305 c = new ChaCha20Poly1305();
        int[] key = words(bytes(32));
        byte[] buf = bytes(1420 + 16);
        for (int i = 0; i < 30_000; i++) {
            c.seal(key, 0, i, 0, buf, 0, 1420, buf, 0, null);
            assertTrue(c.open(key, 0, i, 0, buf, 0, 1436, buf, 0, null));
        }
        for (int len : new int[] {0, 15, 64, 255, 256, 257, 1420, 4096, 65536}) {
            crossCheck(c, bytes(32), bytes(12), bytes(len), len % 2 == 0 ? null : bytes(len % 50));
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void everyLengthUpTo300MatchesTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        for (int len = 0; len <= 300; len++) {
            crossCheck(c, bytes(32), bytes(12), bytes(len), len % 3 == 0 ? null : bytes(len % 37));
        }
    }

    /** The first batch holds 960 data bytes (block 0 keys Poly1305), later ones 1024. */
    @ParameterizedTest
    @MethodSource("forms")
    void lengthsAroundKeystreamBatchBoundariesMatchTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        for (int edge : new int[] {64, 960, 1024, 1420, 1984, 2048, 3008, 8192}) {
            for (int len = edge - 17; len <= edge + 17; len++) {
                crossCheck(c, bytes(32), bytes(12), bytes(len), null);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void largeAndEmptyPlaintextsMatchTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        crossCheck(c, bytes(32), bytes(12), new byte[0], null);
        crossCheck(c, bytes(32), bytes(12), new byte[0], bytes(21));
        crossCheck(c, bytes(32), bytes(12), bytes(65536), null);
        crossCheck(c, bytes(32), bytes(12), bytes(65536 + 13), bytes(5));
    }

    @ParameterizedTest
    @MethodSource("forms")
    void extremeKeysMatchTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        byte[] ones = new byte[32];
        Arrays.fill(ones, (byte) 0xff);
        for (byte[] key : new byte[][] {new byte[32], ones}) {
            for (int len : new int[] {0, 1, 16, 63, 64, 1420, 5000}) {
                crossCheck(c, key, new byte[12], bytes(len), null);
                crossCheck(c, key, bytes(12), filled(len, (byte) 0xff), filled(17, (byte) 0xff));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void transportCountersMatchTheJceNonce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        byte[] raw = bytes(32);
        for (long counter : new long[] {0, 1, 0xffffffffL, 0x100000000L, Long.MAX_VALUE, -1L}) {
            byte[] nonce = new byte[12];
            Message.putLong(nonce, 4, counter);
            byte[] plain = bytes(1420);
            byte[] sealed = new byte[plain.length + 16];
            c.seal(Aead.key(raw), counter, plain, 0, plain.length, sealed, 0, null);
            assertArrayEquals(jceSeal(raw, nonce, plain, null), sealed, "counter " + Long.toUnsignedString(counter));
            byte[] back = new byte[plain.length];
            assertTrue(c.open(Aead.key(raw), counter, sealed, 0, sealed.length, back, 0, null));
            assertArrayEquals(plain, back);
            assertFalse(c.open(Aead.key(raw), counter + 1, sealed, 0, sealed.length, back, 0, null));
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void aadOfSeveralLengthsMatchesTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        for (int aadLen : new int[] {0, 1, 15, 16, 17, 32, 33, 64, 100, 1500}) {
            crossCheck(c, bytes(32), bytes(12), bytes(48), bytes(aadLen));
            crossCheck(c, bytes(32), bytes(12), bytes(77), bytes(aadLen));
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void randomInputsMatchTheJce(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        for (int i = 0; i < 300; i++) {
            int len = RANDOM.nextInt(RANDOM.nextBoolean() ? 2000 : 20000);
            crossCheck(c, bytes(32), bytes(12), bytes(len), RANDOM.nextInt(4) == 0 ? bytes(RANDOM.nextInt(80)) : null);
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void inPlaceAtShiftedOffsetsMatchesSeparateBuffers(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        int[] key = words(bytes(32));
        byte[] plain = bytes(3000);
        byte[] expected = new byte[plain.length + 16];
        c.seal(key, 1, 2, 3, plain, 0, plain.length, expected, 0, null);
        for (int shift : new int[] {-40, -8, -1, 0, 1, 7, 16, 40}) {
            byte[] buf = new byte[plain.length + 200];
            int inOff = 100;
            System.arraycopy(plain, 0, buf, inOff, plain.length);
            c.seal(key, 1, 2, 3, buf, inOff, plain.length, buf, inOff + shift, null);
            assertArrayEquals(expected, Arrays.copyOfRange(buf, inOff + shift, inOff + shift + expected.length));

            int sealedOff = inOff + shift;
            assertTrue(c.open(key, 1, 2, 3, buf, sealedOff, expected.length, buf, sealedOff - shift, null));
            assertArrayEquals(plain, Arrays.copyOfRange(buf, sealedOff - shift, sealedOff - shift + plain.length));
        }
    }

    @ParameterizedTest
    @MethodSource("forms")
    void everyTagByteAndSomeTextBytesFlippedFailAndLeaveTheOutputAlone(boolean jdk) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305(jdk);
        int[] key = words(bytes(32));
        byte[] aad = bytes(20);
        byte[] sealed = new byte[1420 + 16];
        c.seal(key, 0, 9, 0, bytes(1420), 0, 1420, sealed, 0, aad);
        byte[] out = filled(1420, (byte) 0x5a);
        for (int i : new int[] {0, 1, 63, 64, 959, 960, 1419, 1420, 1421, 1430, 1434, 1435}) {
            for (int bit = 0; bit < 8; bit++) {
                sealed[i] ^= (byte) (1 << bit);
                assertFalse(c.open(key, 0, 9, 0, sealed, 0, sealed.length, out, 0, aad), "byte " + i + " bit " + bit);
                sealed[i] ^= (byte) (1 << bit);
            }
        }
        for (int i = 1420; i < 1436; i++) {
            sealed[i] ^= (byte) 0xff;
            assertFalse(c.open(key, 0, 9, 0, sealed, 0, sealed.length, out, 0, aad), "tag byte " + i);
            sealed[i] ^= (byte) 0xff;
        }
        aad[19] ^= 1;
        assertFalse(c.open(key, 0, 9, 0, sealed, 0, sealed.length, out, 0, aad), "aad");
        assertFalse(c.open(key, 0, 9, 0, sealed, 0, sealed.length, out, 0, null), "aad dropped");
        aad[19] ^= 1;
        assertArrayEquals(filled(1420, (byte) 0x5a), out, "a failed open wrote plaintext");
        assertTrue(c.open(key, 0, 9, 0, sealed, 0, sealed.length, out, 0, aad));
    }

    @Test
    void openRejectsBadBoundsWithoutThrowing() {
        ChaCha20Poly1305 c = new ChaCha20Poly1305();
        int[] key = words(bytes(32));
        assertFalse(c.open(key, 0, 0, 0, new byte[15], 0, 15, new byte[15], 0, null));
        assertFalse(c.open(key, 0, 0, 0, new byte[40], 30, 16, new byte[40], 0, null));
        assertFalse(c.open(key, 0, 0, 0, new byte[40], 0, 40, new byte[10], 0, null));
        assertFalse(c.open(key, 0, 0, 0, new byte[40], -1, 20, new byte[40], 0, null));
    }

    @Test
    void implementationsAgreeOnRandomInputs() {
        ChaCha20Poly1305 jdk = new ChaCha20Poly1305(true);
        ChaCha20Poly1305 java = new ChaCha20Poly1305(false);
        for (int i = 0; i < 200; i++) {
            int[] key = words(bytes(32));
            int n0 = RANDOM.nextInt(), n1 = RANDOM.nextInt(), n2 = RANDOM.nextInt();
            byte[] plain = bytes(RANDOM.nextInt(5000));
            byte[] a = new byte[plain.length + 16];
            byte[] b = new byte[plain.length + 16];
            jdk.seal(key, n0, n1, n2, plain, 0, plain.length, a, 0, null);
            java.seal(key, n0, n1, n2, plain, 0, plain.length, b, 0, null);
            assertArrayEquals(a, b);
        }
    }

    /** RFC 8439 §2.3.2: the block function alone. */
    @Test
    void blockFunctionMatchesRfc8439Section232() {
        int[] s = new int[16];
        System.arraycopy(words(hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")), 0, s, 4, 8);
        s[13] = 0x09000000;
        s[14] = 0x4a000000;
        s[15] = 0;
        byte[] out = new byte[64];
        ChaCha20.block(s, 1, out, 0);
        assertArrayEquals(hex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"), out);
    }

    /** Poly1305 over whole blocks, including values that end at or above p, against BouncyCastle's. */
    @ParameterizedTest
    @MethodSource("forms")
    void poly1305MatchesBouncyCastle(boolean jdk) {
        Poly1305 ours = new Poly1305(jdk);
        byte[] ones = filled(32, (byte) 0xff);
        for (int i = 0; i < 500; i++) {
            byte[] key = i % 5 == 0 ? ones : bytes(32);
            byte[] msg = i % 3 == 0 ? filled(16 * (i % 40), (byte) 0xff) : bytes(16 * RANDOM.nextInt(100));
            ours.init(key, 0);
            ours.padded(msg, 0, msg.length);
            byte[] tag = new byte[16];
            ours.finish(tag, 0);
            assertArrayEquals(bouncyCastlePoly1305(key, msg), tag, "case " + i);
        }
    }

    /**
     * Our loop against BouncyCastle on bytes drawn mostly from 0x00, 0xff and their neighbours, which push every
     * limb and carry to its edge; since the AEAD now runs our loop wherever HotSpot has no Poly1305 stub, it carries
     * all the traffic on such CPUs.
     */
    @Test
    void ourPoly1305AgreesWhereEveryCarryIsAtItsEdge() {
        Poly1305 ours = new Poly1305(false);
        byte[] choices = {0, (byte) 0xff, (byte) 0xff, (byte) 0xfe, 1, (byte) 0x80};
        for (int i = 0; i < 5000; i++) {
            byte[] key = new byte[32];
            byte[] msg = new byte[16 * (1 + RANDOM.nextInt(12))];
            for (byte[] b : new byte[][] {key, msg}) {
                for (int j = 0; j < b.length; j++) {
                    b[j] = RANDOM.nextInt(4) == 0 ? (byte) RANDOM.nextInt() : choices[RANDOM.nextInt(choices.length)];
                }
            }
            ours.init(key, 0);
            ours.padded(msg, 0, msg.length);
            byte[] tag = new byte[16];
            ours.finish(tag, 0);
            assertArrayEquals(bouncyCastlePoly1305(key, msg), tag, "case " + i);
        }
    }

    /** RFC 8439 appendix A.3 vectors #5 to #8 and #11, whose sums wrap around 2^130-5. */
    @ParameterizedTest
    @MethodSource("forms")
    void poly1305WrapAroundVectors(boolean jdk) {
        String z15 = "00".repeat(15);
        String ff = "ff".repeat(16);
        checkPoly(jdk, "02" + "00".repeat(31), ff, "03" + z15);
        checkPoly(jdk, "02" + "00".repeat(15) + ff, "02" + z15, "03" + z15);
        checkPoly(jdk, "01" + "00".repeat(31), ff + "f0" + "ff".repeat(15) + "11" + z15, "05" + z15);
        checkPoly(jdk, "01" + "00".repeat(31), ff + "fb" + "fe".repeat(15) + "01".repeat(16), "00".repeat(16));
        checkPoly(jdk, "0100000000000000040000000000000000000000000000000000000000000000",
                "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000"
                        + "0000000000000000", "13000000000000000000000000000000");
    }

    private static void checkPoly(boolean jdk, String key, String msg, String tag) {
        Poly1305 p = new Poly1305(jdk);
        byte[] m = hex(msg);
        p.init(hex(key), 0);
        p.padded(m, 0, m.length);
        byte[] out = new byte[16];
        p.finish(out, 0);
        assertArrayEquals(hex(tag), out);
        assertArrayEquals(bouncyCastlePoly1305(hex(key), m), out);
    }

    /** Seals with c and with the JCE, in place and not, and opens c's output both ways. */
    private static void crossCheck(ChaCha20Poly1305 c, byte[] raw, byte[] nonce, byte[] plain, byte[] aad) {
        int[] key = words(raw);
        int n0 = Message.getInt(nonce, 0), n1 = Message.getInt(nonce, 4), n2 = Message.getInt(nonce, 8);
        byte[] expected = jceSeal(raw, nonce, plain, aad);
        byte[] sealed = new byte[plain.length + 16];
        c.seal(key, n0, n1, n2, plain, 0, plain.length, sealed, 0, aad);
        assertArrayEquals(expected, sealed, "seal, length " + plain.length);

        byte[] buf = new byte[plain.length + 16 + 3];
        System.arraycopy(plain, 0, buf, 3, plain.length);
        c.seal(key, n0, n1, n2, buf, 3, plain.length, buf, 3, aad);
        assertArrayEquals(expected, Arrays.copyOfRange(buf, 3, buf.length), "seal in place, length " + plain.length);

        byte[] back = new byte[plain.length];
        assertTrue(c.open(key, n0, n1, n2, sealed, 0, sealed.length, back, 0, aad), "open, length " + plain.length);
        assertArrayEquals(plain, back);
        assertTrue(c.open(key, n0, n1, n2, buf, 3, sealed.length, buf, 3, aad));
        assertArrayEquals(plain, Arrays.copyOfRange(buf, 3, 3 + plain.length), "open in place");
        assertEquals(plain.length, jceOpen(raw, nonce, sealed, aad).length);
    }

    private static byte[] jceSeal(byte[] raw, byte[] nonce, byte[] plain, byte[] aad) {
        try {
            Cipher jce = Cipher.getInstance("ChaCha20-Poly1305");
            jce.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "ChaCha20"), new IvParameterSpec(nonce));
            if (aad != null) {
                jce.updateAAD(aad);
            }
            return jce.doFinal(plain);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] jceOpen(byte[] raw, byte[] nonce, byte[] sealed, byte[] aad) {
        try {
            Cipher jce = Cipher.getInstance("ChaCha20-Poly1305");
            SecretKey key = new SecretKeySpec(raw, "ChaCha20");
            jce.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce));
            if (aad != null) {
                jce.updateAAD(aad);
            }
            return jce.doFinal(sealed);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] bouncyCastlePoly1305(byte[] key, byte[] msg) {
        org.bouncycastle.crypto.macs.Poly1305 mac = new org.bouncycastle.crypto.macs.Poly1305();
        mac.init(new KeyParameter(key));
        mac.update(msg, 0, msg.length);
        byte[] tag = new byte[16];
        mac.doFinal(tag, 0);
        return tag;
    }

    private static int[] words(byte[] raw) {
        return AeadKey.words(Aead.key(raw));
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }
}
