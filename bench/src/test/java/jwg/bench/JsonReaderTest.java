package jwg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import jwg.tunnel.Json;
import org.junit.jupiter.api.Test;

class JsonReaderTest {
    @Test
    void readsWhatReportPyWrites() {
        Object v = JsonReader.parse("{\"a\": [1, -2.5e3, true, null], \"b\": {\"c\": \"µ\\\"\\u00e9\"}, \"d\": {}}");
        assertEquals(Map.of("a", java.util.Arrays.asList(1.0, -2500.0, true, null), "b", Map.of("c", "µ\"é"),
                "d", Map.of()), v);
    }

    @Test
    void readsWhatJsonWrites() {
        String out = new Json().put("n", 3).put("x", 0.125).put("s", "q\"").put("l", List.of(List.of(1.5, 2.0)))
                .toString();
        assertEquals(Map.of("n", 3.0, "x", 0.125, "s", "q\"", "l", List.of(List.of(1.5, 2.0))), JsonReader.parse(out));
    }

    @Test
    void refusesTrailingText() {
        assertThrows(IllegalArgumentException.class, () -> JsonReader.parse("{} x"));
    }
}
