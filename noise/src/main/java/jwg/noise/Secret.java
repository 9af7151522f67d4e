package jwg.noise;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import org.bouncycastle.crypto.Digest;

/**
 * A 32-byte secret, a private or a preshared key, kept outside the Java heap and read in place.
 *
 * <p>Why not a byte[]: the collector moves live arrays (eden to a survivor space, from one survivor space to the
 * other, to the old generation, and again when a full collection compacts) and leaves the bytes behind where they
 * were. Nothing references those, so no wipe reaches them, and an idle daemon may not reuse that memory for minutes:
 * bench/secrets found up to four copies of a replaced private key that way. Memory from allocateDirect never moves,
 * so {@link #wipe} erases the only copy. The value is never copied out into an array either: {@link Dh}'s ladder
 * reads the scalar's bits from here, and {@link Kdf} feeds a preshared key to the digest byte by byte.
 *
 * <p>Mutable, so an owner (a device's private key, a peer's preshared key) keeps one buffer for its whole life and
 * copies each new value into it. The buffer comes with the first value that is not zero: most peers have no preshared
 * key, and a direct buffer with its cleaners costs some 250 bytes. Not synchronized: owners hold their own lock around
 * writes, and publish a secret safely before others read it.
 */
public final class Secret {
    public static final int LEN = 32;
    /**
     * Zeroes a secret dropped without {@link #wipe}, before the buffer's own cleaner returns its memory to malloc,
     * which would otherwise hand the bytes on. The action holds the buffer, not the Secret, so the buffer outlives it.
     */
    private static final Cleaner CLEANER = Cleaner.create();

    /** Null while the value is zero and always was. */
    private ByteBuffer bytes;

    private Secret() {}

    private ByteBuffer buffer() {
        if (bytes == null) {
            ByteBuffer b = ByteBuffer.allocateDirect(LEN);
            CLEANER.register(this, () -> zero(b));
            bytes = b;
        }
        return bytes;
    }

    /** The zero secret: no key. */
    public static Secret zero() {
        return new Secret();
    }

    /** A copy of raw bytes; the caller wipes its array (tests, and keys made up on the spot, such as the training's). */
    public static Secret of(byte[] raw) {
        if (raw.length != LEN) {
            throw new IllegalArgumentException("a key is 32 bytes, not " + raw.length);
        }
        Secret s = new Secret();
        s.buffer().put(0, raw);
        return s;
    }

    /**
     * Parses the UAPI form, exactly 64 hex digits (upper case accepted, as wireguard-go's decoder does), straight
     * into the buffer: no byte[] of the key exists on the way.
     */
    public static Secret fromHex(CharSequence text) {
        if (text.length() != 2 * LEN) {
            throw new IllegalArgumentException("a hex key is 64 hex digits");
        }
        Secret s = new Secret();
        for (int i = 0; i < LEN; i++) {
            int hi = Character.digit(text.charAt(2 * i), 16);
            int lo = Character.digit(text.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                s.wipe();
                throw new IllegalArgumentException("a hex key is 64 hex digits");
            }
            s.buffer().put(i, (byte) (hi << 4 | lo));
        }
        return s;
    }

    /** Replaces this value with other's. */
    public void copyFrom(Secret other) {
        if (other.bytes != null) {
            buffer().put(0, other.bytes, 0, LEN);
        } else {
            wipe();
        }
    }

    /** A new secret with this value, for an owner that wipes it independently. */
    public Secret copy() {
        Secret s = new Secret();
        s.copyFrom(this);
        return s;
    }

    /**
     * Appends the UAPI form, 64 lowercase hex digits, a character at a time: the caller chooses where the digits land
     * (the UAPI's reply buffer, wiped once sent), so no string of them is left for the collector.
     */
    public void appendHex(Appendable out) throws IOException {
        for (int i = 0; i < LEN; i++) {
            int b = get(i);
            out.append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 15, 16));
        }
    }

    /** In constant time, so that comparing a new key with the old one tells a timer nothing. */
    public boolean isZero() {
        int acc = 0;
        for (int i = 0; i < LEN; i++) {
            acc |= get(i);
        }
        return acc == 0;
    }

    /** In constant time. */
    public boolean sameAs(Secret other) {
        int acc = 0;
        for (int i = 0; i < LEN; i++) {
            acc |= get(i) ^ other.get(i);
        }
        return acc == 0;
    }

    /** Zeroes the value: the key was replaced or removed. The secret stays usable, as the zero key. */
    public void wipe() {
        if (bytes != null) {
            zero(bytes);
        }
    }

    private static void zero(ByteBuffer b) {
        for (int i = 0; i < LEN; i++) {
            b.put(i, (byte) 0);
        }
    }

    /** Byte i, unsigned. */
    int get(int i) {
        return bytes == null ? 0 : bytes.get(i) & 0xff;
    }

    /** Feeds the value to a digest one byte at a time, so that only the digest's own block buffer holds it. */
    void update(Digest digest) {
        for (int i = 0; i < LEN; i++) {
            digest.update((byte) get(i));
        }
    }

    /** Never the key itself: a secret must not reach a log by accident. */
    @Override
    public String toString() {
        return "Secret[redacted]";
    }
}
