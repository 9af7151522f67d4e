package jwg.noise;

import java.util.Arrays;

/**
 * The two messages of Noise IKpsk2 (§5.4.2, §5.4.3) over raw bodies, without WireGuard's header, indices and MACs:
 * <pre>
 *   -> e, es, s, ss, payload        body = e(32) ‖ AEAD(s)(48) ‖ AEAD(payload)(n+16)
 *   <- e, ee, se, psk, payload      body = e(32) ‖ AEAD(payload)(n+16)
 * </pre>
 * {@link Handshake} frames them as WireGuard messages (prologue IDENTIFIER, payloads TAI64N and empty); the
 * cacophony test vectors run through these same functions with their own prologue and payloads.
 * Every function returns false instead of throwing when a DH is zero or a ciphertext does not authenticate.
 */
final class NoiseIK {
    static final int STATIC_SEALED_LEN = Dh.KEY_LEN + Aead.TAG_LEN;

    private NoiseIK() {}

    /** Initiator. st must be initialized and hold H = HASH(H ‖ S_pub_r). ss = DH(S_priv_i, S_pub_r), precomputed. */
    static boolean writeInitiation(SymmetricState st, byte[] ePriv, byte[] responderStatic, byte[] ss,
                                   byte[] initiatorStatic, byte[] payload, byte[] out, int off) {
        byte[] ePub = Dh.publicKey(ePriv);
        System.arraycopy(ePub, 0, out, off, 32);
        st.mixChain(ePub, 0, 32);
        st.mixHash(ePub, 0, 32);
        byte[] dh = new byte[32];
        try {
            if (!Dh.sharedSecret(ePriv, responderStatic, dh)) {
                return false;
            }
            st.mixKey(dh);
            st.encryptAndHash(initiatorStatic, 0, 32, out, off + 32);
            st.mixKey(ss);
            st.encryptAndHash(payload, 0, payload.length, out, off + 32 + STATIC_SEALED_LEN);
            return true;
        } finally {
            Arrays.fill(dh, (byte) 0);
        }
    }

    /**
     * Responder, first half: e, es, s. Writes the initiator's ephemeral and static public keys; the caller looks the
     * static key up among its peers before the second half.
     */
    static boolean readInitiationStatic(SymmetricState st, Secret sPriv, byte[] in, int off, byte[] eOut,
                                        byte[] sOut) {
        System.arraycopy(in, off, eOut, 0, 32);
        st.mixChain(eOut, 0, 32);
        st.mixHash(eOut, 0, 32);
        byte[] dh = new byte[32];
        try {
            if (!Dh.sharedSecret(sPriv, eOut, dh)) {
                return false;
            }
            st.mixKey(dh);
            return st.decryptAndHash(in, off + 32, STATIC_SEALED_LEN, sOut, 0);
        } finally {
            Arrays.fill(dh, (byte) 0);
        }
    }

    /** Responder, second half: ss, payload (payloadOut.length plaintext bytes). */
    static boolean readInitiationPayload(SymmetricState st, byte[] ss, byte[] in, int off, byte[] payloadOut) {
        st.mixKey(ss);
        return st.decryptAndHash(in, off + 32 + STATIC_SEALED_LEN, payloadOut.length + Aead.TAG_LEN, payloadOut, 0);
    }

    /** Responder: e, ee, se, psk, payload. re and rs are the initiator's ephemeral and static public keys. */
    static boolean writeResponse(SymmetricState st, byte[] ePriv, byte[] re, byte[] rs, Secret psk, byte[] payload,
                                 byte[] out, int off) {
        byte[] ePub = Dh.publicKey(ePriv);
        System.arraycopy(ePub, 0, out, off, 32);
        st.mixChain(ePub, 0, 32);
        st.mixHash(ePub, 0, 32);
        if (!mixDh(st, ePriv, re) || !mixDh(st, ePriv, rs)) {
            return false;
        }
        st.mixKeyAndHash(psk);
        st.encryptAndHash(payload, 0, payload.length, out, off + 32);
        return true;
    }

    /** Initiator reads the response: e, ee, se, psk, payload (payloadOut.length plaintext bytes). */
    static boolean readResponse(SymmetricState st, byte[] ePriv, Secret sPriv, Secret psk, byte[] in, int off,
                                byte[] payloadOut) {
        byte[] re = Arrays.copyOfRange(in, off, off + 32);
        st.mixChain(re, 0, 32);
        st.mixHash(re, 0, 32);
        if (!mixDh(st, ePriv, re) || !mixDh(st, sPriv, re)) {
            return false;
        }
        st.mixKeyAndHash(psk);
        return st.decryptAndHash(in, off + 32, payloadOut.length + Aead.TAG_LEN, payloadOut, 0);
    }

    /** (T_first, T_second) = KDF2(C, ε): the initiator sends with the first, the responder with the second. */
    static void split(SymmetricState st, byte[] first, byte[] second) {
        Kdf.kdf(st.chainKey, new byte[0], first, second);
    }

    /** C = KDF1(C, DH(priv, pub)); false on a zero DH. */
    private static boolean mixDh(SymmetricState st, byte[] priv, byte[] pub) {
        byte[] dh = new byte[32];
        return mixDh(st, Dh.sharedSecret(priv, pub, dh), dh);
    }

    private static boolean mixDh(SymmetricState st, Secret priv, byte[] pub) {
        byte[] dh = new byte[32];
        return mixDh(st, Dh.sharedSecret(priv, pub, dh), dh);
    }

    private static boolean mixDh(SymmetricState st, boolean nonZero, byte[] dh) {
        try {
            if (nonZero) {
                st.mixChain(dh, 0, 32);
            }
            return nonZero;
        } finally {
            Arrays.fill(dh, (byte) 0);
        }
    }
}
