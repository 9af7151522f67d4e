package jwg.noise;

import java.security.SecureRandom;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The whitepaper's DH and DH-GENERATE: X25519 (RFC 7748). BouncyCastle's rfc7748 code, not the JDK's
 * KeyAgreement: measured ~1.8x faster here, and it allocates ~1.2 KB per operation against the JDK's 3-11 KB.
 * Thread-safe.
 */
public final class Dh {
    public static final int KEY_LEN = 32;

    private Dh() {}

    /** Clamps a private key in place (RFC 7748 §5), as wg genkey and the kernel store it. */
    public static void clamp(byte[] key) {
        key[0] &= (byte) 248;
        key[31] &= 127;
        key[31] |= 64;
    }

    /** DH-GENERATE's private half: 32 random bytes, clamped. */
    public static byte[] generatePrivate(SecureRandom random) {
        byte[] key = new byte[KEY_LEN];
        random.nextBytes(key);
        clamp(key);
        return key;
    }

    /** The public key of a private key (clamped internally, so unclamped input gives wg pubkey's answer). */
    public static byte[] publicKey(byte[] privateKey) {
        byte[] pub = new byte[KEY_LEN];
        X25519.scalarMultBase(privateKey, 0, pub, 0);
        return pub;
    }

    /**
     * DH(private, public) into out. Returns false, leaving out zero, when the result is all zeros: the peer
     * sent a low-order point, and the whitepaper requires the handshake to fail rather than use it.
     */
    public static boolean sharedSecret(byte[] privateKey, byte[] publicKey, int pubOff, byte[] out) {
        return X25519.calculateAgreement(privateKey, 0, publicKey, pubOff, out, 0);
    }

    public static boolean sharedSecret(byte[] privateKey, byte[] publicKey, byte[] out) {
        return sharedSecret(privateKey, publicKey, 0, out);
    }
}
