package jwg.tunnel;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One JSON object, written in the order its fields were put: a log line under JWG_LOG_FORMAT=json ({@link Log}), and
 * how every tool of bench/ reports its figures to bench/compare. Values are numbers, strings, booleans, null, lists,
 * maps, or nested objects.
 */
public final class Json {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    public Json put(String name, Object value) {
        fields.put(name, value);
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        write(fields, sb);
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("null");
            case Json j -> write(j.fields, sb);
            case Map<?, ?> m -> {
                sb.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(sep);
                    write(e.getKey().toString(), sb);
                    sb.append(':');
                    write(e.getValue(), sb);
                    sep = ",";
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    sb.append(i == 0 ? "" : ",");
                    write(l.get(i), sb);
                }
                sb.append(']');
            }
            // Six significant digits, no trailing zeros: a figure's noise digits stay out, 4.1 stays 4.1.
            case Double d -> sb.append(Double.isFinite(d)
                    ? new BigDecimal(d).round(new MathContext(6)).stripTrailingZeros().toPlainString() : "null");
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            default -> {
                sb.append('"');
                for (char c : v.toString().toCharArray()) {
                    if (c == '"' || c == '\\') {
                        sb.append('\\').append(c);
                    } else if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
                sb.append('"');
            }
        }
    }
}
