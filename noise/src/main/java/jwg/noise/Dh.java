package jwg.noise;

import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.math.ec.rfc7748.X25519Field;

/**
 * The whitepaper's DH and DH-GENERATE: X25519 (RFC 7748).
 *
 * <p>The Montgomery ladder is ours, over BouncyCastle's field arithmetic, because BouncyCastle's X25519.scalarMult
 * decodes the scalar into a fresh int[] for every operation: on a little-endian machine that array holds the key's
 * very bytes (once clamped, as every key wg makes is), and it is garbage no one can wipe. Ours reads each bit of the
 * scalar where the key lives ({@link Secret}, off the heap; or an ephemeral key's array, which its caller wipes) and
 * zeroes its own state when done. Same field operations as BouncyCastle's ladder, so the same speed; BouncyCastle
 * and the JDK's KeyAgreement were measured ~1.8x apart, in BouncyCastle's favour. The RFC's vectors and a comparison
 * with BouncyCastle on random inputs are in PrimitiveVectorsTest.
 *
 * <p>A public key from an ephemeral private key still goes through BouncyCastle's fixed-base multiplication (about
 * 3x faster than a ladder, and every handshake makes two): it leaves that one decoded copy of a key used once.
 * Thread-safe.
 */
public final class Dh {
    public static final int KEY_LEN = 32;
    /** (486662 - 2) / 4, the curve constant of the ladder's doubling (RFC 7748 §5). */
    private static final int A24 = 121665;
    private static final byte[] BASE_POINT = new byte[KEY_LEN];

    static {
        BASE_POINT[0] = 9;
    }

    private Dh() {}

    /** Clamps a private key in place (RFC 7748 §5), as wg genkey and the kernel store it. */
    public static void clamp(byte[] key) {
        key[0] &= (byte) 248;
        key[31] &= 127;
        key[31] |= 64;
    }

    /** DH-GENERATE's private half: 32 random bytes, clamped. The caller wipes them. */
    public static byte[] generatePrivate(SecureRandom random) {
        byte[] key = new byte[KEY_LEN];
        random.nextBytes(key);
        clamp(key);
        return key;
    }

    /** The public key of a static private key (clamped as read, so an unclamped key gives wg pubkey's answer). */
    public static byte[] publicKey(Secret privateKey) {
        byte[] pub = new byte[KEY_LEN];
        ladder(null, privateKey, BASE_POINT, 0, pub);
        return pub;
    }

    /** The public key of an ephemeral private key (see the class comment). */
    public static byte[] publicKey(byte[] ephemeralPrivate) {
        byte[] pub = new byte[KEY_LEN];
        X25519.scalarMultBase(ephemeralPrivate, 0, pub, 0);
        return pub;
    }

    /**
     * DH(private, public) into out. Returns false when the result is all zeros: the peer sent a low-order point, and
     * the whitepaper requires the handshake to fail rather than use it.
     */
    public static boolean sharedSecret(Secret privateKey, byte[] publicKey, int pubOff, byte[] out) {
        ladder(null, privateKey, publicKey, pubOff, out);
        return !allZero(out);
    }

    public static boolean sharedSecret(Secret privateKey, byte[] publicKey, byte[] out) {
        return sharedSecret(privateKey, publicKey, 0, out);
    }

    /** The same with an ephemeral (or a test's) private key in an array. */
    public static boolean sharedSecret(byte[] privateKey, byte[] publicKey, int pubOff, byte[] out) {
        ladder(privateKey, null, publicKey, pubOff, out);
        return !allZero(out);
    }

    public static boolean sharedSecret(byte[] privateKey, byte[] publicKey, byte[] out) {
        return sharedSecret(privateKey, publicKey, 0, out);
    }

    /**
     * out = the u-coordinate of k·U (RFC 7748 §5), k read from the array or else the secret, clamped bit by bit as
     * it is read. Constant time: the only branches are on the bit's position, and the swaps are masked.
     */
    private static void ladder(byte[] kArray, Secret kSecret, byte[] u, int uOff, byte[] out) {
        int[] x1 = X25519Field.create();
        int[] x2 = X25519Field.create();
        int[] z2 = X25519Field.create();
        int[] x3 = X25519Field.create();
        int[] z3 = X25519Field.create();
        int[] a = X25519Field.create();
        int[] b = X25519Field.create();
        int[] c = X25519Field.create();
        int[] d = X25519Field.create();
        X25519Field.decode(u, uOff, x1); // masks bit 255, as the RFC asks
        X25519Field.one(x2);
        X25519Field.copy(x1, 0, x3, 0);
        X25519Field.one(z3);
        int swap = 0;
        for (int t = 254; t >= 0; t--) {
            int bit = scalarBit(kArray, kSecret, t);
            swap ^= bit;
            X25519Field.cswap(swap, x2, x3);
            X25519Field.cswap(swap, z2, z3);
            swap = bit;
            X25519Field.apm(x2, z2, a, b);     // A = x2 + z2, B = x2 - z2
            X25519Field.apm(x3, z3, c, d);     // C = x3 + z3, D = x3 - z3
            X25519Field.mul(d, a, d);          // DA
            X25519Field.mul(c, b, c);          // CB
            X25519Field.sqr(a, a);             // AA
            X25519Field.sqr(b, b);             // BB
            X25519Field.apm(d, c, x3, z3);     // DA + CB, DA - CB
            X25519Field.sqr(x3, x3);           // x3 = (DA + CB)^2
            X25519Field.sqr(z3, z3);
            X25519Field.mul(z3, x1, z3);       // z3 = x1 * (DA - CB)^2
            X25519Field.mul(a, b, x2);         // x2 = AA * BB
            X25519Field.sub(a, b, b);          // E = AA - BB
            X25519Field.mul(b, A24, z2);
            X25519Field.add(z2, a, z2);
            X25519Field.mul(z2, b, z2);        // z2 = E * (AA + a24 * E)
        }
        X25519Field.cswap(swap, x2, x3);
        X25519Field.cswap(swap, z2, z3);
        X25519Field.inv(z2, z2);
        X25519Field.mul(x2, z2, x2);
        X25519Field.normalize(x2);
        X25519Field.encode(x2, out, 0);
        wipe(x1, x2, z2, x3, z3, a, b, c, d);
    }

    private static void wipe(int[]... fields) {
        for (int[] f : fields) {
            Arrays.fill(f, 0);
        }
    }

    /** Bit t of the clamped scalar: bit 254 set, bits 255 and 0 to 2 clear, the rest as stored. */
    private static int scalarBit(byte[] kArray, Secret kSecret, int t) {
        if (t == 254) {
            return 1;
        }
        if (t < 3) {
            return 0;
        }
        int k = kArray != null ? kArray[t >>> 3] & 0xff : kSecret.get(t >>> 3);
        return (k >>> (t & 7)) & 1;
    }

    private static boolean allZero(byte[] b) {
        int acc = 0;
        for (byte v : b) {
            acc |= v;
        }
        return acc == 0;
    }
}
