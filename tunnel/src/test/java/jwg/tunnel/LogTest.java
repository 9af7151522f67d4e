package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private List<String> lines() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void textIsWireguardGosShape() {
        Log log = new Log(Log.Level.INFO, Log.Format.TEXT, "wg0", out);
        log.info("peer(abcd…wxyz): endpoint (none) -> 10.0.0.2:51820", Map.of("event", "endpoint_changed"));
        log.verbose("not at info");
        log.error("bad line");
        List<String> lines = lines();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("INFO: \\(wg0\\) \\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} "
                + "peer\\(abcd…wxyz\\): endpoint \\(none\\) -> 10\\.0\\.0\\.2:51820"), lines.get(0));
        assertTrue(lines.get(1).startsWith("ERROR: (wg0) ") && lines.get(1).endsWith(" bad line"), lines.get(1));
    }

    @Test
    void jsonIsOneObjectPerLineWithTheFieldsBeforeTheMessage() {
        Log log = new Log(Log.Level.VERBOSE, Log.Format.JSON, "wg0", out);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("event", "endpoint_changed");
        fields.put("from", null);
        fields.put("to", "[2001:db8::1]:51820");
        fields.put("addresses", List.of("192.0.2.1:51820", "[2001:db8::1]:51820"));
        fields.put("rtt_ms", Map.of("[2001:db8::1]:51820", 2.5));
        fields.put("retry_s", 5L);
        log.info("peer(abcd…wxyz): endpoint \"quoted\"\n\tand \\ escaped", fields);
        log.verbose("debug line");
        log.error("error line");
        List<String> lines = lines();
        assertEquals(3, lines.size(), lines.toString());
        String time = "\\{\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?Z\",";
        assertTrue(lines.get(0).matches(time + ".*"), lines.get(0));
        assertEquals("\"level\":\"info\",\"interface\":\"wg0\",\"event\":\"endpoint_changed\",\"from\":null,"
                + "\"to\":\"[2001:db8::1]:51820\",\"addresses\":[\"192.0.2.1:51820\",\"[2001:db8::1]:51820\"],"
                + "\"rtt_ms\":{\"[2001:db8::1]:51820\":2.5},\"retry_s\":5,"
                + "\"message\":\"peer(abcd…wxyz): endpoint \\\"quoted\\\"\\u000a\\u0009and \\\\ escaped\"}",
                lines.get(0).substring(lines.get(0).indexOf("\"level\"")));
        assertTrue(lines.get(1).matches(time + "\"level\":\"debug\",\"interface\":\"wg0\",\"message\":\"debug line\"}"),
                lines.get(1));
        assertTrue(lines.get(2).matches(time + "\"level\":\"error\",\"interface\":\"wg0\",\"message\":\"error line\"}"),
                lines.get(2));
    }

    @Test
    void theFormatComesFromJwgLogFormat() {
        assertEquals(Log.Format.JSON, Log.formatOf("json"));
        assertEquals(Log.Format.TEXT, Log.formatOf(null));
        assertEquals(Log.Format.TEXT, Log.formatOf("text"));
    }
}
