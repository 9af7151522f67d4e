package jwg.noise;

import java.util.Arrays;
import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * HMAC-BLAKE2s-256 and the whitepaper's KDF1/KDF2/KDF3 (HKDF with HMAC-BLAKE2s, §5.4):
 * τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τ(i-1) ‖ i). Stateless and thread-safe.
 */
public final class Kdf {
    private Kdf() {}

    /** HMAC(key, data). HMac takes its block size (64) from the digest, as HMAC-BLAKE2s requires. */
    public static byte[] hmac(byte[] key, byte[] data, int off, int len) {
        HMac mac = new HMac(new Blake2sDigest(256));
        mac.init(new KeyParameter(key));
        mac.update(data, off, len);
        byte[] out = new byte[Blake2s.HASH_LEN];
        mac.doFinal(out, 0);
        return out;
    }

    /**
     * Writes τ1..τn into outs[0..n-1] (n = outs.length, 1 to 3). An out may alias key: the chaining key
     * is overwritten in place this way.
     */
    public static void kdf(byte[] key, byte[] input, int off, int len, byte[]... outs) {
        if (outs.length < 1 || outs.length > 3) {
            throw new IllegalArgumentException("KDF yields 1 to 3 outputs");
        }
        byte[] prk = hmac(key, input, off, len);
        byte[] block = new byte[Blake2s.HASH_LEN + 1];
        byte[] t = new byte[0];
        for (int i = 0; i < outs.length; i++) {
            System.arraycopy(t, 0, block, 0, t.length);
            block[t.length] = (byte) (i + 1);
            byte[] next = hmac(prk, block, 0, t.length + 1);
            Arrays.fill(t, (byte) 0);
            t = next;
            System.arraycopy(t, 0, outs[i], 0, Blake2s.HASH_LEN);
        }
        Arrays.fill(t, (byte) 0);
        Arrays.fill(prk, (byte) 0);
        Arrays.fill(block, (byte) 0);
    }

    public static void kdf(byte[] key, byte[] input, byte[]... outs) {
        kdf(key, input, 0, input.length, outs);
    }
}
