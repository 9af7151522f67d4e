package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import jwg.noise.Secret;
import org.junit.jupiter.api.Test;

class UapiReaderTest {
    @Test
    void linesEndAtNewlineOnly() throws Exception {
        UapiReader r = UapiReader.of("set=1\nset=1\r\nkey=a\rb\n\n");
        assertEquals("set=1", r.readLine());
        assertEquals("set=1\r", r.readLine(), "an operation line keeps its CR, so it is no operation");
        assertEquals("key=a\rb", r.readSetLine(), "only a CR at the end goes");
        assertEquals("", r.readLine());
        assertNull(r.readLine());
    }

    @Test
    void aSetLineLosesOneCarriageReturnAtItsEnd() throws Exception {
        UapiReader r = UapiReader.of("listen_port=1\r\nfwmark=0\r\r\n");
        assertEquals("listen_port=1", r.readSetLine());
        assertEquals("fwmark=0\r", r.readSetLine());
    }

    @Test
    void aLineOverTheLimitFailsWithEioAndTheNextLineIsReadWhole() throws Exception {
        String longest = "k=" + "x".repeat(UapiReader.MAX_LINE - 2);
        String tooLong = longest + "y";
        UapiReader r = UapiReader.of(longest + "\n" + tooLong + "\nnext=1\n" + "z".repeat(1 << 20) + "\nlast=1\n");
        assertEquals(longest, r.readLine());
        UapiError e = assertThrows(UapiError.class, r::readLine);
        assertEquals(UapiError.EIO, e.errno);
        assertEquals("next=1", r.readLine());
        assertThrows(UapiError.class, r::readLine, "a 1 MiB line");
        assertEquals("last=1", r.readLine());
    }

    @Test
    void aLineCutOffByTheEndOfTheStreamIsNoLine() throws Exception {
        UapiReader r = UapiReader.of("get=1\nlisten_po");
        assertEquals("get=1", r.readLine());
        assertNull(r.readLine());
    }

    @Test
    void aSetRequestWithAnOverlongLineIsReadToItsEndAndFailsWithEio() throws Exception {
        UapiReader r = UapiReader.of("listen_port=1\nallowed_ip=" + "1".repeat(100_000) + "\nfwmark=1\n\nget=1\n");
        UapiError e = assertThrows(UapiError.class, () -> Uapi.parse(r));
        assertEquals(UapiError.EIO, e.errno);
        assertEquals("get=1", r.readLine(), "the next request starts after the blank line");
    }

    private static final String HEX = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";

    @Test
    void aKeyLinesHexIsDecodedInPlaceAndWipedNeverAString() throws Exception {
        UapiReader r = UapiReader.of("private_key=" + HEX + "\r\npreshared_key=" + HEX.toUpperCase() + "\n"
                + "preshared_key=" + HEX.substring(1) + "\nlisten_port=1\n");
        assertEquals("private_key=", r.readSetLine(), "the value does not come back as text");
        assertNoHexLeft(r);
        Secret priv = r.takeSecret("private_key");
        assertTrue(priv.sameAs(Secret.fromHex(HEX)));
        assertEquals("preshared_key=", r.readSetLine());
        assertTrue(r.takeSecret("preshared_key").sameAs(priv), "upper-case digits too");
        assertEquals("preshared_key=", r.readSetLine());
        UapiError e = assertThrows(UapiError.class, () -> r.takeSecret("preshared_key"));
        assertEquals(UapiError.EINVAL, e.errno);
        assertEquals("invalid preshared_key", e.getMessage(), "the message never carries the value");
        assertEquals("listen_port=1", r.readSetLine());
        assertThrows(UapiError.class, () -> r.takeSecret("private_key"), "no secret without its line");
    }

    @Test
    void aSecretNobodyTookIsWipedByTheNextLine() throws Exception {
        UapiReader r = UapiReader.of("private_key=" + HEX + "\n\n");
        r.readSetLine();
        Field f = UapiReader.class.getDeclaredField("secret");
        f.setAccessible(true);
        Secret untaken = (Secret) f.get(r);
        assertEquals("", r.readSetLine());
        assertTrue(untaken.isZero(), "a refused request's key is wiped, not left to the collector");
    }

    @Test
    void setsOfKeysStillApplyThroughTheParser() throws Exception {
        UapiChange c = Uapi.parse(UapiReader.of("private_key=" + HEX + "\npublic_key=" + HEX
                + "\npreshared_key=" + HEX + "\n\n"));
        assertTrue(c.privateKey.sameAs(Secret.fromHex(HEX)));
        assertTrue(c.peers.get(0).presharedKey.sameAs(Secret.fromHex(HEX)));
        UapiError e = assertThrows(UapiError.class,
                () -> Uapi.parse(UapiReader.of("private_key=" + HEX + "0\n\n")));
        assertEquals(UapiError.EINVAL, e.errno);
    }

    private static void assertNoHexLeft(UapiReader r) throws Exception {
        Field f = UapiReader.class.getDeclaredField("line");
        f.setAccessible(true);
        String left = new String((byte[]) f.get(r), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(left.contains(HEX.substring(0, 16)), "the line buffer still holds the key's digits");
    }
}

