package jwg.noise;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A 32-byte Curve25519 key with the two text forms WireGuard uses: base64 (configs, wg's key tools) and lowercase hex
 * (UAPI). Immutable; equality is constant-time so keys can be map keys without a timing side channel. A daemon holds
 * public keys this way; its private and preshared keys are {@link Secret}s, which stay off the heap.
 */
public final class Key {
    public static final int LEN = 32;
    /** 44 characters: 43 significant, then one '='. */
    public static final int BASE64_LEN = 44;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private final byte[] bytes;

    private Key(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Key of(byte[] bytes) {
        if (bytes.length != LEN) {
            throw new IllegalArgumentException("a key is 32 bytes, not " + bytes.length);
        }
        return new Key(bytes.clone());
    }

    public static Key zero() {
        return new Key(new byte[LEN]);
    }

    /**
     * Parses wg's base64 form exactly as wireguard-tools does: 44 characters ending in '=', and the last significant
     * character must not carry stray low bits, so each key has one text form.
     */
    public static Key fromBase64(String text) {
        if (text.length() != BASE64_LEN || text.charAt(BASE64_LEN - 1) != '=') {
            throw new IllegalArgumentException("Key is not the correct length or format");
        }
        byte[] out = new byte[LEN];
        int acc = 0;
        int bits = 0;
        int o = 0;
        for (int i = 0; i < BASE64_LEN - 1; i++) {
            int v = ALPHABET.indexOf(text.charAt(i));
            if (v < 0) {
                throw new IllegalArgumentException("Key is not the correct length or format");
            }
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (byte) (acc >>> bits);
            }
        }
        if ((acc & ((1 << bits) - 1)) != 0) {
            throw new IllegalArgumentException("Key is not the correct length or format");
        }
        return new Key(out);
    }

    /** Parses the UAPI form: exactly 64 hex digits. Upper case is accepted, as wireguard-go's hex decoder does. */
    public static Key fromHex(String text) {
        if (text.length() != 2 * LEN) {
            throw new IllegalArgumentException("a hex key is 64 hex digits");
        }
        try {
            return new Key(HexFormat.of().parseHex(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a hex key is 64 hex digits");
        }
    }

    public String toBase64() {
        StringBuilder sb = new StringBuilder(BASE64_LEN);
        int acc = 0;
        int bits = 0;
        for (byte b : bytes) {
            acc = (acc << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 6) {
                bits -= 6;
                sb.append(ALPHABET.charAt((acc >>> bits) & 63));
            }
        }
        sb.append(ALPHABET.charAt((acc << (6 - bits)) & 63));
        return sb.append('=').toString();
    }

    public String toHex() {
        return HexFormat.of().formatHex(bytes);
    }

    /** A copy of the key bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The key bytes without copying, for the protocol core, which never writes to them. */
    byte[] raw() {
        return bytes;
    }

    public boolean isZero() {
        int acc = 0;
        for (byte b : bytes) {
            acc |= b;
        }
        return acc == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Key k && MessageDigest.isEqual(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** How logs name a peer by its public key, as wireguard-go does: the first and last four base64 characters. */
    public String shortForm() {
        String b = toBase64();
        return b.substring(0, 4) + "…" + b.substring(39, 43);
    }

    /** Never the key itself: a private key must not reach a log by accident. */
    @Override
    public String toString() {
        return "Key[redacted]";
    }
}
