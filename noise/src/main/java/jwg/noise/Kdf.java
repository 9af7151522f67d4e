package jwg.noise;

import java.util.Arrays;
import org.bouncycastle.crypto.digests.Blake2sDigest;

/**
 * HMAC-BLAKE2s-256 and the whitepaper's KDF1/KDF2/KDF3 (HKDF with HMAC-BLAKE2s, §5.4):
 * τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τ(i-1) ‖ i).
 *
 * <p>HMAC is written out over one digest per thread rather than built from BouncyCastle's HMac per call: a handshake
 * runs some forty HMACs, and a fresh HMac costs about 1 KB of allocation each (measured with JMH -prof gc).
 * Thread-safe: all scratch state is thread-local.
 */
public final class Kdf {
    private static final int BLOCK = 64;

    private static final class Scratch {
        final Blake2sDigest digest = new Blake2sDigest(256);
        final byte[] pad = new byte[BLOCK];
        final byte[] inner = new byte[Blake2s.HASH_LEN];
        final byte[] prk = new byte[Blake2s.HASH_LEN];
        final byte[] block = new byte[Blake2s.HASH_LEN + 1];
        final byte[] longKey = new byte[Blake2s.HASH_LEN];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Kdf() {}

    /** HMAC(key, data). */
    public static byte[] hmac(byte[] key, byte[] data, int off, int len) {
        byte[] out = new byte[Blake2s.HASH_LEN];
        hmac(SCRATCH.get(), key, key.length, data, off, len, null, out);
        return out;
    }

    /**
     * HMAC(key[0, keyLen), data) into out[0, 32), data being data[off, off+len) or else the secret; out may alias key
     * or data.
     */
    private static void hmac(Scratch s, byte[] key, int keyLen, byte[] data, int off, int len, Secret secret,
                             byte[] out) {
        byte[] k = key;
        if (keyLen > BLOCK) {
            s.digest.reset();
            s.digest.update(key, 0, keyLen);
            s.digest.doFinal(s.longKey, 0);
            k = s.longKey;
            keyLen = Blake2s.HASH_LEN;
        }
        for (int i = 0; i < BLOCK; i++) {
            s.pad[i] = (byte) ((i < keyLen ? k[i] : 0) ^ 0x36);
        }
        s.digest.reset();
        s.digest.update(s.pad, 0, BLOCK);
        if (secret != null) {
            // The digest copies it into its block buffer, which doFinal zeroes. BouncyCastle's compression also
            // decodes each block into a fresh int[] it drops: one garbage copy of a preshared key per handshake.
            secret.update(s.digest);
        } else {
            s.digest.update(data, off, len);
        }
        s.digest.doFinal(s.inner, 0);
        for (int i = 0; i < BLOCK; i++) {
            s.pad[i] = (byte) ((i < keyLen ? k[i] : 0) ^ 0x5c);
        }
        s.digest.update(s.pad, 0, BLOCK);
        s.digest.update(s.inner, 0, Blake2s.HASH_LEN);
        s.digest.doFinal(out, 0);
        Arrays.fill(s.pad, (byte) 0);
        Arrays.fill(s.inner, (byte) 0);
    }

    /**
     * Writes τ1..τn into outs[0..n-1] (n = outs.length, 1 to 3). An out may alias key: the chaining key
     * is overwritten in place this way.
     */
    public static void kdf(byte[] key, byte[] input, int off, int len, byte[]... outs) {
        kdf(key, input, off, len, null, outs);
    }

    /** KDF(key, secret): the preshared key's step, with the secret read where it lives. */
    public static void kdf(byte[] key, Secret input, byte[]... outs) {
        kdf(key, null, 0, 0, input, outs);
    }

    private static void kdf(byte[] key, byte[] input, int off, int len, Secret secret, byte[]... outs) {
        if (outs.length < 1 || outs.length > 3) {
            throw new IllegalArgumentException("KDF yields 1 to 3 outputs");
        }
        Scratch s = SCRATCH.get();
        hmac(s, key, key.length, input, off, len, secret, s.prk);
        int previous = 0;
        for (int i = 0; i < outs.length; i++) {
            s.block[previous] = (byte) (i + 1);
            hmac(s, s.prk, Blake2s.HASH_LEN, s.block, 0, previous + 1, null, s.block);
            System.arraycopy(s.block, 0, outs[i], 0, Blake2s.HASH_LEN);
            previous = Blake2s.HASH_LEN;
        }
        Arrays.fill(s.prk, (byte) 0);
        Arrays.fill(s.block, (byte) 0);
    }

    public static void kdf(byte[] key, byte[] input, byte[]... outs) {
        kdf(key, input, 0, input.length, outs);
    }
}
