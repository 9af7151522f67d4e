package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;

/**
 * {@link Poly1305Vector}, the four-lane block loop, against BouncyCastle and against the scalar loop: at the lengths
 * where it takes over and hands back, at every alignment, at the edges of every limb, and after C2 has compiled it
 * (whose multiplies differ from the interpreter's: 32×32-bit where the operands are masked).
 */
class Poly1305VectorTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(0x1305L);
    private static final byte[] EDGES = {0, (byte) 0xff, (byte) 0xff, (byte) 0xfe, 1, (byte) 0x80, 0x7f};

    @Test
    void surefireAddsTheVectorModuleSoTheLanesRun() {
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "needs --add-modules jdk.incubator.vector (jwg.argLine in the parent pom)");
        assertTrue(Poly1305Vector.works());
        // Until warmed up, the AEAD's Poly1305 keeps to its scalar loop; after, it takes the lanes (unless the CPU
        // has IFMA, where SunJCE's loop with its stub runs and there is nothing to warm).
        assertEquals(!JdkPoly1305.INTRINSIC_LIKELY, ChaCha20Poly1305.warmUpVectorLanes());
        assertTrue(jwg.noise.Poly1305.warmUpLanes());
        assertEquals(!JdkPoly1305.INTRINSIC_LIKELY, new jwg.noise.Poly1305(JdkPoly1305.INTRINSIC_LIKELY).usesLanes(),
                jwg.noise.Poly1305.implementation(JdkPoly1305.INTRINSIC_LIKELY));
        assertTrue(new jwg.noise.Poly1305(false).usesLanes());
    }

    /** Long runs through the scalar loop ask for the lanes once there are enough of them; short ones never do. */
    @Test
    void enoughTrafficThroughTheScalarLoopAsksForTheLanes() {
        boolean warm = jwg.noise.Poly1305.lanesWarm;
        try {
            jwg.noise.Poly1305.lanesWarm = false;
            jwg.noise.Poly1305.lanesWanted = false;
            jwg.noise.Poly1305 p = new jwg.noise.Poly1305(false);
            byte[] key = random(32);
            byte[] small = random(Poly1305Vector.MIN_LEN - 16);
            byte[] large = random(65536);
            for (long done = 0; done < 2 * jwg.noise.Poly1305.WANT_LANES_AFTER; done += small.length) {
                p.init(key, 0);
                p.padded(small, 0, small.length);
                p.finish(new byte[16], 0);
            }
            assertFalse(ChaCha20Poly1305.vectorLanesWanted(), "short messages asked for the lanes");
            for (long done = 0; done < jwg.noise.Poly1305.WANT_LANES_AFTER - large.length; done += large.length) {
                p.init(key, 0);
                p.padded(large, 0, large.length);
                p.finish(new byte[16], 0);
            }
            assertFalse(ChaCha20Poly1305.vectorLanesWanted(),
                    "asked for the lanes before " + jwg.noise.Poly1305.WANT_LANES_AFTER + " bytes");
            p.init(key, 0);
            p.padded(large, 0, large.length);
            p.finish(new byte[16], 0);
            assertTrue(ChaCha20Poly1305.vectorLanesWanted());
        } finally {
            jwg.noise.Poly1305.lanesWarm = warm;
        }
    }

    /** An instance made before the warm-up switches to the lanes after it, with the same tags. */
    @Test
    void theAeadSwitchesToTheLanesOnceWarmAndAgreesWithItselfBefore() {
        jwg.noise.Poly1305 p = new jwg.noise.Poly1305(false);
        byte[] key = random(32);
        byte[] msg = random(1408);
        byte[] before = new byte[16];
        p.init(key, 0);
        p.padded(msg, 0, msg.length);
        p.finish(before, 0);
        assertTrue(jwg.noise.Poly1305.warmUpLanes());
        assertTrue(p.usesLanes());
        byte[] after = new byte[16];
        p.init(key, 0);
        p.padded(msg, 0, msg.length);
        p.finish(after, 0);
        assertArrayEquals(before, after);
        assertArrayEquals(bouncyCastle(key, msg, 0, msg.length), after);
    }

    /** Every length from one block short of the lanes' minimum to past two kilobytes, in steps of one block. */
    @Test
    void everyLengthAroundTheHandOver() {
        for (int len = Poly1305Vector.MIN_LEN - 16; len <= 2112; len += 16) {
            for (int k = 0; k < 3; k++) {
                check(random(32), random(len), 0, len, "length " + len);
            }
        }
    }

    /** Not whole blocks: the AEAD pads the last one, which the scalar loop then takes. */
    @Test
    void lengthsThatAreNotWholeBlocks() {
        for (int len = 250; len < 1500; len += 7) {
            check(random(32), random(len), 0, len, "length " + len);
        }
    }

    @Test
    void everyAlignmentInTheArray() {
        for (int off = 0; off < 40; off++) {
            byte[] m = random(off + 1424);
            check(random(32), m, off, 1408, "offset " + off);
        }
    }

    /** Bytes mostly 0x00, 0xff and their neighbours, in keys and messages: every limb and carry at its edge. */
    @Test
    void edgeValuedKeysAndMessages() {
        byte[] ones = filled(32, (byte) 0xff);
        for (int i = 0; i < 3000; i++) {
            int len = 16 * (16 + RANDOM.nextInt(100));
            byte[] key = i % 10 == 0 ? ones : edgy(32);
            byte[] msg = i % 7 == 0 ? filled(len, (byte) 0xff) : edgy(len);
            check(key, msg, 0, len, "case " + i);
        }
    }

    @Test
    void sixtyFourKilobytes() {
        byte[] msg = random(65536);
        check(random(32), msg, 0, msg.length, "64 KB");
        check(filled(32, (byte) 0xff), filled(65536, (byte) 0xff), 0, 65536, "64 KB of ones");
    }

    /** Long enough for C2 to compile the lanes (the loop is hot within milliseconds); every tag checked. */
    @Test
    void compiledLanesAgreeWithTheScalarLoop() {
        jwg.noise.Poly1305 lanes = new jwg.noise.Poly1305(new Poly1305Vector());
        jwg.noise.Poly1305 scalar = new jwg.noise.Poly1305((JdkPoly1305) null);
        byte[] key = random(32);
        byte[] msg = random(1408);
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        for (int i = 0; i < 40_000; i++) {
            lanes.init(key, 0);
            lanes.padded(msg, 0, msg.length);
            lanes.finish(a, 0);
            scalar.init(key, 0);
            scalar.padded(msg, 0, msg.length);
            scalar.finish(b, 0);
            assertArrayEquals(b, a, "round " + i);
            if (i % 1000 == 0) {
                assertArrayEquals(bouncyCastle(key, msg, 0, msg.length), a, "round " + i);
            }
            // Next round: a key and message derived from this tag, some of them at the edges.
            key[i & 31] ^= a[0];
            msg[(i * 13) % msg.length] = i % 3 == 0 ? (byte) 0xff : a[1];
        }
    }

    /** Our scalar loop, and the lanes, on m[off, off+len) both agree with BouncyCastle. */
    private static void check(byte[] key, byte[] m, int off, int len, String what) {
        byte[] expected = bouncyCastle(key, m, off, len);
        for (jwg.noise.Poly1305 p : new jwg.noise.Poly1305[] {
                new jwg.noise.Poly1305(new Poly1305Vector()), new jwg.noise.Poly1305((JdkPoly1305) null)}) {
            p.init(key, 0);
            p.padded(m, off, len);
            byte[] tag = new byte[16];
            p.finish(tag, 0);
            assertArrayEquals(expected, tag, what + (p.usesLanes() ? " (lanes)" : " (scalar)"));
        }
    }

    /** BouncyCastle's Poly1305 over m padded with zeros to whole blocks, as the AEAD (and {@code padded}) does. */
    private static byte[] bouncyCastle(byte[] key, byte[] m, int off, int len) {
        Poly1305 mac = new Poly1305();
        mac.init(new KeyParameter(key));
        mac.update(m, off, len);
        if (len % 16 != 0) {
            mac.update(new byte[16 - len % 16], 0, 16 - len % 16);
        }
        byte[] tag = new byte[16];
        mac.doFinal(tag, 0);
        return tag;
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static byte[] edgy(int n) {
        byte[] b = new byte[n];
        for (int j = 0; j < n; j++) {
            b[j] = RANDOM.nextInt(4) == 0 ? (byte) RANDOM.nextInt() : EDGES[RANDOM.nextInt(EDGES.length)];
        }
        return b;
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }
}
