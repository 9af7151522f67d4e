package jwg.noise;

import static jwg.noise.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Known-answer tests of every primitive against its RFC or draft, and the KDF against wireguard-go's vectors. */
class PrimitiveVectorsTest {
    private static final byte[] SUNSCREEN = ("Ladies and Gentlemen of the class of '99: If I could offer you only one "
            + "tip for the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);

    @Test
    void chacha20Poly1305MatchesRfc8439Section282() {
        byte[] key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = hex("070000004041424344454647");
        byte[] aad = hex("50515253c0c1c2c3c4c5c6c7");
        byte[] expected = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fa"
                + "fb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b48"
                + "31d7bc3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691");
        byte[] out = new byte[SUNSCREEN.length + 16];
        Aead.sealWithNonce(Aead.key(key), nonce, SUNSCREEN, 0, SUNSCREEN.length, out, 0, aad);
        assertArrayEquals(expected, out);
        byte[] back = new byte[SUNSCREEN.length];
        assertTrue(Aead.openWithNonce(Aead.key(key), nonce, out, 0, out.length, back, 0, aad));
        assertArrayEquals(SUNSCREEN, back);
    }

    @Test
    void aeadCounterNonceIsFourZeroBytesThenLittleEndianCounter() {
        byte[] key = new byte[32];
        Arrays.fill(key, (byte) 7);
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        Aead.seal(Aead.key(key), 0x0102030405060708L, new byte[0], 0, 0, a, 0, null);
        Aead.sealWithNonce(Aead.key(key), hex("000000000807060504030201"), new byte[0], 0, 0, b, 0, null);
        assertArrayEquals(b, a);
    }

    @Test
    void aeadOpenRejectsTooShortInputWithoutThrowing() {
        assertFalse(Aead.open(Aead.key(new byte[32]), 0, new byte[15], 0, 15, new byte[15], 0, null));
        assertFalse(Aead.open(Aead.key(new byte[32]), 0, new byte[16], 0, 40, new byte[40], 0, null));
    }

    @Test
    void hchacha20MatchesXChaChaDraftSection221() {
        byte[] key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] nonce = hex("000000090000004a0000000031415927");
        assertArrayEquals(hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"),
                XAead.hChaCha20(key, nonce));
    }

    @Test
    void xchacha20Poly1305MatchesXChaChaDraftAppendixA31() {
        byte[] key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657");
        byte[] aad = hex("50515253c0c1c2c3c4c5c6c7");
        byte[] expected = hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3"
                + "a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565"
                + "d3fff921f9664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49");
        byte[] out = new byte[SUNSCREEN.length + 16];
        XAead.seal(key, nonce, SUNSCREEN, 0, SUNSCREEN.length, out, 0, aad);
        assertArrayEquals(expected, out);
        byte[] back = new byte[SUNSCREEN.length];
        assertTrue(XAead.open(key, nonce, out, 0, out.length, back, 0, aad));
        assertArrayEquals(SUNSCREEN, back);
        out[5] ^= 1;
        assertFalse(XAead.open(key, nonce, out, 0, out.length, back, 0, aad));
    }

    @Test
    void blake2sMatchesRfc7693AppendixB() {
        assertArrayEquals(hex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"),
                Blake2s.hash("abc".getBytes(StandardCharsets.US_ASCII), new byte[0]));
    }

    /** RFC 7693 Appendix E: a hash over keyed and unkeyed digests of every output and input length it lists. */
    @Test
    void blake2sPassesRfc7693AppendixESelfTest() {
        int[] outLens = {16, 20, 28, 32};
        int[] inLens = {0, 3, 64, 65, 255, 1024};
        org.bouncycastle.crypto.digests.Blake2sDigest grand = new org.bouncycastle.crypto.digests.Blake2sDigest(256);
        for (int outLen : outLens) {
            for (int inLen : inLens) {
                byte[] in = selfTestSequence(inLen, inLen);
                byte[] md = Blake2s.digest(null, outLen, in);
                grand.update(md, 0, md.length);
                md = Blake2s.digest(selfTestSequence(outLen, outLen), outLen, in);
                grand.update(md, 0, md.length);
            }
        }
        byte[] result = new byte[32];
        grand.doFinal(result, 0);
        assertArrayEquals(hex("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe"), result);
    }

    private static byte[] selfTestSequence(int len, int seed) {
        byte[] out = new byte[len];
        int a = 0xDEAD4BAD * seed;
        int b = 1;
        for (int i = 0; i < len; i++) {
            int t = a + b;
            a = b;
            b = t;
            out[i] = (byte) (t >>> 24);
        }
        return out;
    }

    @Test
    void macIsKeyedBlake2sWithSixteenByteOutput() {
        byte[] key = new byte[32];
        byte[] data = "x".getBytes(StandardCharsets.US_ASCII);
        byte[] mac = new byte[16];
        Blake2s.mac(key, data, 0, 1, mac, 0);
        assertArrayEquals(Blake2s.digest(key, 16, data), mac);
    }

    @Test
    void x25519MatchesRfc7748Section52() {
        assertDh("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
        assertDh("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
    }

    @Test
    void x25519IteratedMatchesRfc7748Section52() {
        byte[] k = hex("0900000000000000000000000000000000000000000000000000000000000000");
        byte[] u = k.clone();
        for (int i = 1; i <= 1000; i++) {
            byte[] out = new byte[32];
            Dh.sharedSecret(k, u, out);
            u = k;
            k = out;
            if (i == 1) {
                assertArrayEquals(hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"), k);
            }
        }
        assertArrayEquals(hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"), k);
    }

    @Test
    void x25519DiffieHellmanMatchesRfc7748Section61() {
        byte[] alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        assertArrayEquals(hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), Dh.publicKey(alice));
        assertArrayEquals(hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), Dh.publicKey(bob));
        // A static key lives in a Secret and its public key comes from the ladder, not the fixed-base path.
        assertArrayEquals(Dh.publicKey(alice), Dh.publicKey(Secret.of(alice)));
        assertArrayEquals(Dh.publicKey(bob), Dh.publicKey(Secret.of(bob)));
        byte[] shared = new byte[32];
        assertTrue(Dh.sharedSecret(Secret.of(bob), Dh.publicKey(alice), shared));
        assertArrayEquals(hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), shared);
        assertDh("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
                "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    }

    @Test
    void x25519LadderAgreesWithBouncyCastleOnRandomInputs() {
        // Unclamped scalars and u with bit 255 set included: both sides clamp and mask the same way.
        Random random = new Random(25519);
        for (int i = 0; i < 2000; i++) {
            byte[] k = new byte[32];
            byte[] u = new byte[32];
            random.nextBytes(k);
            random.nextBytes(u);
            byte[] expected = new byte[32];
            org.bouncycastle.math.ec.rfc7748.X25519.scalarMult(k, 0, u, 0, expected, 0);
            byte[] viaArray = new byte[32];
            byte[] viaSecret = new byte[32];
            Dh.sharedSecret(k, u, viaArray);
            Dh.sharedSecret(Secret.of(k), u, viaSecret);
            assertArrayEquals(expected, viaArray, "scalar " + HexFormat.of().formatHex(k));
            assertArrayEquals(expected, viaSecret);
        }
    }

    @Test
    void x25519WithLowOrderPointIsRejected() {
        byte[] priv = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] out = new byte[32];
        assertFalse(Dh.sharedSecret(priv, new byte[32], out), "u = 0 is of order 4");
        byte[] one = new byte[32];
        one[0] = 1;
        assertFalse(Dh.sharedSecret(priv, one, out), "u = 1 is of order 1");
        assertFalse(Dh.sharedSecret(Secret.of(priv), one, out), "the same from a Secret");
    }

    @Test
    void clampingClearsLowBitsAndSetsBit254() {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) 0xff);
        Dh.clamp(k);
        assertEquals((byte) 0xf8, k[0]);
        assertEquals((byte) 0x7f, k[31]);
    }

    @Test
    @SuppressWarnings("unchecked")
    void kdfMatchesWireguardGoVectors() {
        for (Map<String, Object> c : (List<Map<String, Object>>) Vectors.load("kdf.json").get("cases")) {
            byte[] key = hex(c.get("key"));
            byte[] input = hex(c.get("input"));
            byte[] t1 = new byte[32];
            byte[] t2 = new byte[32];
            byte[] t3 = new byte[32];
            Kdf.kdf(key, input, t1, t2, t3);
            assertArrayEquals(hex(c.get("out1")), t1);
            assertArrayEquals(hex(c.get("out2")), t2);
            assertArrayEquals(hex(c.get("out3")), t3);
            byte[] only = new byte[32];
            Kdf.kdf(key, input, only);
            assertArrayEquals(t1, only, "KDF1 is the first output of KDF3");
        }
    }

    private static void assertDh(String scalar, String u, String expected) {
        byte[] out = new byte[32];
        assertTrue(Dh.sharedSecret(hex(scalar), hex(u), out));
        assertArrayEquals(hex(expected), out);
    }
}
