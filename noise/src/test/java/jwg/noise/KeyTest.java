package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Keys and their two text forms: wg's base64 (strict, one form per key) and UAPI hex. */
class KeyTest {
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    @Test
    void base64RoundTripsAndMatchesTheStandardEncoder() {
        for (int seed = 0; seed < 500; seed++) {
            byte[] raw = Peers.bytes(seed, 32);
            Key k = Key.of(raw);
            String text = k.toBase64();
            assertEquals(Base64.getEncoder().encodeToString(raw), text);
            assertEquals(44, text.length());
            assertEquals(k, Key.fromBase64(text));
            assertArrayEquals(raw, Key.fromBase64(text).bytes());
        }
    }

    @Test
    void fromBase64RejectsAnyLengthBut44() {
        String good = Key.of(Peers.bytes(1, 32)).toBase64();
        assertInvalidBase64(good.substring(0, 43));
        assertInvalidBase64(good.substring(0, 42) + "=");
        assertInvalidBase64(good + "=");
        assertInvalidBase64(good.substring(0, 43) + "A=");
        assertInvalidBase64("");
        assertInvalidBase64(good + " ");
    }

    @Test
    void fromBase64RejectsAMissingPaddingCharacter() {
        String good = Key.of(Peers.bytes(1, 32)).toBase64();
        assertInvalidBase64(good.substring(0, 43) + "A");
        assertInvalidBase64(good.substring(0, 43) + "/");
    }

    @Test
    void fromBase64RejectsCharactersOutsideTheAlphabet() {
        String good = Key.of(Peers.bytes(1, 32)).toBase64();
        for (char bad : new char[] {'-', '_', '*', ' ', '.', '\n', '=', '\u00e9', '\u0000'}) {
            for (int at : new int[] {0, 10, 42}) {
                assertInvalidBase64(good.substring(0, at) + bad + good.substring(at + 1));
            }
        }
    }

    @Test
    void fromBase64RejectsANonCanonicalLastCharacter() {
        // 43 characters carry 258 bits: the 43rd holds the key's last 4 bits and 2 bits that must be zero.
        for (int seed = 0; seed < 50; seed++) {
            String good = Key.of(Peers.bytes(seed, 32)).toBase64();
            int v = ALPHABET.indexOf(good.charAt(42));
            assertEquals(0, v & 3, good);
            for (int lowBits = 1; lowBits <= 3; lowBits++) {
                assertInvalidBase64(good.substring(0, 42) + ALPHABET.charAt(v | lowBits) + "=");
            }
        }
        assertInvalidBase64("A".repeat(42) + "B=");
        assertEquals(Key.zero(), Key.fromBase64("A".repeat(43) + "="));
    }

    @Test
    void hexRoundTripsInLowerCaseAndAcceptsUpperCase() {
        for (int seed = 0; seed < 100; seed++) {
            byte[] raw = Peers.bytes(seed, 32);
            Key k = Key.of(raw);
            assertEquals(HexFormat.of().formatHex(raw), k.toHex());
            assertEquals(k, Key.fromHex(k.toHex()));
            assertEquals(k, Key.fromHex(k.toHex().toUpperCase()));
        }
    }

    @Test
    void fromHexRejectsOddWrongLengthAndNonHexText() {
        String good = Key.of(Peers.bytes(1, 32)).toHex();
        for (String bad : new String[] {good.substring(0, 63), good + "0", good.substring(0, 62),
            good + "00", "", "0x" + good.substring(2), "g" + good.substring(1), good.substring(0, 63) + " ",
            good.substring(0, 32) + "-" + good.substring(33)}) {
            assertThrows(IllegalArgumentException.class, () -> Key.fromHex(bad), bad);
        }
    }

    @Test
    void ofRejectsAnythingButThirtyTwoBytesAndCopiesItsInput() {
        assertThrows(IllegalArgumentException.class, () -> Key.of(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> Key.of(new byte[33]));
        byte[] raw = Peers.bytes(1, 32);
        Key k = Key.of(raw);
        raw[0] ^= 1;
        assertNotEquals(Key.of(raw), k);
        k.bytes()[0] ^= 1;
        assertEquals(Key.of(Peers.bytes(1, 32)), k);
    }

    @Test
    void toStringNeverContainsTheKey() {
        for (int seed = 0; seed < 20; seed++) {
            Key k = Key.of(Peers.bytes(seed, 32));
            String s = k.toString();
            assertFalse(s.contains(k.toBase64().substring(0, 8)), s);
            assertFalse(s.contains(k.toHex().substring(0, 8)), s);
            assertFalse(s.contains(k.toHex().substring(0, 8).toUpperCase()), s);
        }
        assertEquals(Key.zero().toString(), Key.of(Peers.bytes(1, 32)).toString());
    }

    @Test
    void keysWithTheSameBytesAreEqualWithTheSameHashCode() {
        Key a = Key.of(Peers.bytes(1, 32));
        Key b = Key.fromHex(a.toHex());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        byte[] last = Peers.bytes(1, 32);
        last[31] ^= (byte) 0x80;
        assertNotEquals(a, Key.of(last));
        assertNotEquals(a, null);
        assertNotEquals(a, (Object) a.toBase64());
        assertTrue(Key.zero().isZero());
        assertFalse(a.isZero());
        assertFalse(Key.of(last).isZero());
    }

    @Test
    void shortFormIsTheFirstAndLastFourSignificantBase64Characters() {
        Key k = Key.of(Peers.bytes(1, 32));
        String b = k.toBase64();
        assertEquals(b.substring(0, 4) + "…" + b.substring(39, 43), k.shortForm());
    }

    private static void assertInvalidBase64(String text) {
        assertThrows(IllegalArgumentException.class, () -> Key.fromBase64(text), text);
    }
}
