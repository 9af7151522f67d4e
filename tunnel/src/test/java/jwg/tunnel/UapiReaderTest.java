package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
