package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UapiReplyTest {
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private final UapiReply reply = new UapiReply().attach(Channels.newChannel(sent));

    @Test
    void aReplyManyBuffersLongArrivesAsItsUtf8() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 10 * UapiReply.CHARS; i++) {
            text.append("endpoint=[2001:db8::").append(Integer.toHexString(i)).append("]:51820\n");
            text.append(i % 7 == 0 ? "host=bücher.例え.test 😀\n" : "");
        }
        String s = text.toString();
        reply.write(s.substring(0, 100));
        reply.append(new StringBuilder(s.substring(100, 5000)));
        reply.write(s.toCharArray(), 5000, 3000);
        for (int i = 8000; i < 9000; i++) {
            reply.write(s.charAt(i));
        }
        reply.append(s, 9000, s.length());
        reply.flush();
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), sent.toByteArray());
    }

    @Test
    void aSurrogatePairSplitAtTheBufferEdgeStaysOneCharacter() throws IOException {
        for (int at = UapiReply.CHARS - 3; at <= UapiReply.CHARS + 1; at++) {
            sent.reset();
            String s = "x".repeat(at) + "😀" + "y".repeat(10);
            reply.write(s);
            reply.flush();
            assertEquals(s, sent.toString(StandardCharsets.UTF_8), "pair at " + at);
        }
    }

    @Test
    void aLoneSurrogateIsReplacedNotThrown() throws IOException {
        reply.write("a\uD83Db\n");
        reply.write("end\uD83D");
        reply.flush();
        assertEquals("a?b\nend?", sent.toString(StandardCharsets.UTF_8));
    }

    @Test
    void flushingLeavesNoDigitOfAKeyInTheBuffers() throws Exception {
        String key = "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n";
        reply.write(key.repeat(3));
        reply.flush();
        assertEquals(key.repeat(3), sent.toString(StandardCharsets.UTF_8));
        assertAllZero(reply);
        reply.write(key);
        reply.detach();
        assertAllZero(reply);
    }

    @Test
    void theNextConnectionStartsCleanAndADetachedReplyCannotSend() throws IOException {
        reply.write("half a reply the client never got");
        reply.detach();
        assertThrows(IOException.class, reply::flush);
        ByteArrayOutputStream next = new ByteArrayOutputStream();
        reply.attach(Channels.newChannel(next));
        reply.write("errno=0\n\n");
        reply.flush();
        assertEquals("errno=0\n\n", next.toString(StandardCharsets.UTF_8));
        assertEquals(0, sent.size());
    }

    private static void assertAllZero(UapiReply r) throws Exception {
        Field chars = UapiReply.class.getDeclaredField("chars");
        Field bytes = UapiReply.class.getDeclaredField("bytes");
        chars.setAccessible(true);
        bytes.setAccessible(true);
        for (char c : (char[]) chars.get(r)) {
            assertEquals('\0', c);
        }
        for (byte b : (byte[]) bytes.get(r)) {
            assertEquals(0, b);
        }
    }
}
