package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** TAI64N (§5.4.2): big-endian 0x400000000000000a + seconds, big-endian nanoseconds whitened to multiples of 2^24. */
class Tai64nTest {
    @Test
    void encodesAKnownInstant() {
        // 2023-11-14T22:13:20.123456789Z: 1_700_000_000 s = 0x6553f100; 123_456_789 ns = 0x075bcd15 -> 0x07000000.
        assertArrayEquals(hex("400000006553f10a" + "07000000"), Tai64n.of(1_700_000_000L, 123_456_789));
        assertArrayEquals(hex("400000006553f10a" + "07000000"), Tai64n.ofEpochNanos(1_700_000_000_123_456_789L));
    }

    @Test
    void encodesTheEpochAndTheLastNanosecondBeforeIt() {
        assertArrayEquals(hex("400000000000000a" + "00000000"), Tai64n.ofEpochNanos(0));
        // -1 ns is second -1 plus 999_999_999 ns = 0x3b9ac9ff, whitened to 0x3b000000.
        assertArrayEquals(hex("4000000000000009" + "3b000000"), Tai64n.ofEpochNanos(-1));
    }

    @Test
    void nanosecondsAreRoundedDownToMultiplesOf2To24() {
        byte[] zero = Tai64n.of(100, 0);
        assertArrayEquals(zero, Tai64n.of(100, (1 << 24) - 1));
        assertArrayEquals(hex("400000000000006e" + "01000000"), Tai64n.of(100, 1 << 24));
        assertArrayEquals(hex("400000000000006e" + "3b000000"), Tai64n.of(100, 999_999_999));
    }

    @Test
    void afterIsStrict() {
        byte[] t = Tai64n.of(1_700_000_000L, 0);
        assertFalse(Tai64n.after(t, t));
        assertFalse(Tai64n.after(t, t.clone()));
        assertTrue(Tai64n.after(Tai64n.of(1_700_000_000L, 1 << 24), t));
        assertFalse(Tai64n.after(t, Tai64n.of(1_700_000_000L, 1 << 24)));
        assertTrue(Tai64n.after(Tai64n.of(1_700_000_001L, 0), Tai64n.of(1_700_000_000L, 999_999_999)));
    }

    @Test
    void afterComparesBytesUnsigned() {
        byte[] high = hex("800000000000000000000000");
        byte[] low = hex("7fffffffffffffffffffffff");
        assertTrue(Tai64n.after(high, low));
        assertFalse(Tai64n.after(low, high));
        // In the last byte too: 0x80 is after 0x7f.
        assertTrue(Tai64n.after(hex("000000000000000000000080"), hex("00000000000000000000007f")));
        // And every timestamp is after the all-zero initial state.
        assertTrue(Tai64n.after(Tai64n.ofEpochNanos(0), new byte[Tai64n.LEN]));
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }
}
