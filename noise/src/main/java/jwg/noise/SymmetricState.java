package jwg.noise;

import java.util.Arrays;

/**
 * Noise's symmetric state (Noise §5.2) as WireGuard uses it (§5.4.2): the chaining key C, the hash H, and the key k
 * of the latest MixKey. Each k encrypts exactly one thing in a WireGuard handshake, so its nonce is always 0.
 * Not thread-safe: a handshake step works on its own copy and commits it under the handshake's lock.
 */
final class SymmetricState {
    private static final byte[] INITIAL_CHAIN_KEY = Blake2s.hash(Protocol.CONSTRUCTION, new byte[0]);

    final byte[] chainKey = new byte[32];
    final byte[] hash = new byte[32];
    private final byte[] key = new byte[32];

    /** C = HASH(CONSTRUCTION); H = HASH(C ‖ prologue). WireGuard's prologue is IDENTIFIER. */
    void initialize(byte[] prologue) {
        System.arraycopy(INITIAL_CHAIN_KEY, 0, chainKey, 0, 32);
        Blake2s.hash(hash, chainKey, 0, 32, prologue, 0, prologue.length);
        Arrays.fill(key, (byte) 0);
    }

    void mixHash(byte[] data, int off, int len) {
        Blake2s.hash(hash, hash, 0, 32, data, off, len);
    }

    /** C = KDF1(C, input): the psk modifier makes every "e" token also mix the ephemeral into C. */
    void mixChain(byte[] input, int off, int len) {
        Kdf.kdf(chainKey, input, off, len, chainKey);
    }

    /** (C, k) = KDF2(C, input). */
    void mixKey(byte[] input) {
        Kdf.kdf(chainKey, input, chainKey, key);
    }

    /** (C, τ, k) = KDF3(C, psk); H = HASH(H ‖ τ). */
    void mixKeyAndHash(Secret psk) {
        byte[] tau = new byte[32];
        Kdf.kdf(chainKey, psk, chainKey, tau, key);
        mixHash(tau, 0, 32);
        Arrays.fill(tau, (byte) 0);
    }

    /** out = AEAD(k, 0, plain, H); H = HASH(H ‖ out). Writes len + 16 bytes. */
    void encryptAndHash(byte[] plain, int off, int len, byte[] out, int outOff) {
        Aead.seal(Aead.key(key), 0, plain, off, len, out, outOff, hash);
        mixHash(out, outOff, len + Aead.TAG_LEN);
    }

    /** plain = AEAD-open(k, 0, in, H); H = HASH(H ‖ in). False if it does not authenticate (H is then unchanged). */
    boolean decryptAndHash(byte[] in, int off, int len, byte[] out, int outOff) {
        if (!Aead.open(Aead.key(key), 0, in, off, len, out, outOff, hash)) {
            return false;
        }
        mixHash(in, off, len);
        return true;
    }

    void copyFrom(SymmetricState other) {
        System.arraycopy(other.chainKey, 0, chainKey, 0, 32);
        System.arraycopy(other.hash, 0, hash, 0, 32);
        System.arraycopy(other.key, 0, key, 0, 32);
    }

    void zero() {
        Arrays.fill(chainKey, (byte) 0);
        Arrays.fill(hash, (byte) 0);
        Arrays.fill(key, (byte) 0);
    }
}
