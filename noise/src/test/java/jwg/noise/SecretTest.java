package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SecretTest {
    private static final String HEX = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";

    private static String hex(Secret s) {
        StringBuilder sb = new StringBuilder();
        try {
            s.appendHex(sb);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return sb.toString();
    }

    @Test
    void hexRoundTripsLowerCaseAndAcceptsUpperCase() {
        assertEquals(HEX, hex(Secret.fromHex(HEX)));
        assertEquals(HEX, hex(Secret.fromHex(HEX.toUpperCase())));
        assertTrue(Secret.fromHex(HEX).sameAs(Secret.of(Key.fromHex(HEX).bytes())));
    }

    @Test
    void badHexIsRefusedWithTheUapiMessage() {
        for (String bad : new String[] {"", HEX.substring(1), HEX + "0", "g" + HEX.substring(1), "+" + HEX.substring(1)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Secret.fromHex(bad));
            assertEquals("a hex key is 64 hex digits", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Secret.of(new byte[31]));
    }

    @Test
    void wipeZeroesThisCopyOnly() {
        Secret a = Secret.fromHex(HEX);
        Secret b = a.copy();
        assertFalse(a.isZero());
        a.wipe();
        assertTrue(a.isZero());
        assertTrue(a.sameAs(Secret.zero()));
        assertEquals(HEX, hex(b), "a copy is its owner's to wipe");
        a.copyFrom(b);
        assertTrue(a.sameAs(b));
    }

    @Test
    void sameAsComparesEveryByte() {
        Secret a = Secret.fromHex(HEX);
        for (int i = 0; i < 64; i++) {
            char[] c = HEX.toCharArray();
            c[i] = c[i] == '0' ? '1' : '0';
            assertFalse(a.sameAs(Secret.fromHex(new String(c))), "digit " + i);
        }
    }

    @Test
    void neverPrintsItself() {
        assertEquals("Secret[redacted]", Secret.fromHex(HEX).toString());
    }
}
