package jwg.noise;

import java.util.Arrays;
import javax.crypto.SecretKey;

/**
 * The whitepaper's XAEAD: XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha): HChaCha20(key, nonce[0..16)) gives a subkey,
 * then ChaCha20-Poly1305 with nonce 4 zero bytes ‖ nonce[16..24). Used only for cookie replies, whose 24-byte random
 * nonce is too long to risk a collision of the 12-byte kind. Thread-safe.
 */
public final class XAead {
    public static final int NONCE_LEN = 24;

    private XAead() {}

    public static void seal(byte[] key, byte[] nonce, byte[] in, int inOff, int len, byte[] out, int outOff,
                            byte[] aad) {
        byte[] sub = hChaCha20(key, nonce);
        Aead.sealWithNonce(Aead.key(sub), innerNonce(nonce), in, inOff, len, out, outOff, aad);
        Arrays.fill(sub, (byte) 0);
    }

    public static boolean open(byte[] key, byte[] nonce, byte[] in, int inOff, int len, byte[] out, int outOff,
                               byte[] aad) {
        byte[] sub = hChaCha20(key, nonce);
        SecretKey k = Aead.key(sub);
        Arrays.fill(sub, (byte) 0);
        return Aead.openWithNonce(k, innerNonce(nonce), in, inOff, len, out, outOff, aad);
    }

    private static byte[] innerNonce(byte[] nonce) {
        byte[] n = new byte[Aead.NONCE_LEN];
        System.arraycopy(nonce, 16, n, 4, 8);
        return n;
    }

    /** HChaCha20: 20 ChaCha rounds over key and the first 16 nonce bytes, output words 0-3 and 12-15. */
    static byte[] hChaCha20(byte[] key, byte[] nonce) {
        int[] s = new int[16];
        s[0] = 0x61707865;
        s[1] = 0x3320646e;
        s[2] = 0x79622d32;
        s[3] = 0x6b206574;
        for (int i = 0; i < 8; i++) {
            s[4 + i] = Message.getInt(key, 4 * i);
        }
        for (int i = 0; i < 4; i++) {
            s[12 + i] = Message.getInt(nonce, 4 * i);
        }
        for (int round = 0; round < 10; round++) {
            quarter(s, 0, 4, 8, 12);
            quarter(s, 1, 5, 9, 13);
            quarter(s, 2, 6, 10, 14);
            quarter(s, 3, 7, 11, 15);
            quarter(s, 0, 5, 10, 15);
            quarter(s, 1, 6, 11, 12);
            quarter(s, 2, 7, 8, 13);
            quarter(s, 3, 4, 9, 14);
        }
        byte[] out = new byte[32];
        for (int i = 0; i < 4; i++) {
            Message.putInt(out, 4 * i, s[i]);
            Message.putInt(out, 16 + 4 * i, s[12 + i]);
        }
        Arrays.fill(s, 0);
        return out;
    }

    private static void quarter(int[] s, int a, int b, int c, int d) {
        s[a] += s[b]; s[d] = Integer.rotateLeft(s[d] ^ s[a], 16);
        s[c] += s[d]; s[b] = Integer.rotateLeft(s[b] ^ s[c], 12);
        s[a] += s[b]; s[d] = Integer.rotateLeft(s[d] ^ s[a], 8);
        s[c] += s[d]; s[b] = Integer.rotateLeft(s[b] ^ s[c], 7);
    }

}
