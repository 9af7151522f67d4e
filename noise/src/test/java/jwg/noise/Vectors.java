package jwg.noise;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Loads the JSON test vectors in src/test/resources/vectors: a reader for just the JSON they use. */
final class Vectors {
    private final String text;
    private int pos;

    private Vectors(String text) {
        this.text = text;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> load(String name) {
        try (InputStream in = Vectors.class.getResourceAsStream("/vectors/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test vector " + name);
            }
            return (Map<String, Object>) new Vectors(new String(in.readAllBytes(), StandardCharsets.UTF_8)).value();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] hex(Object s) {
        return HexFormat.of().parseHex((String) s);
    }

    private Object value() {
        skip();
        char c = text.charAt(pos);
        if (c == '{') {
            Map<String, Object> m = new LinkedHashMap<>();
            pos++;
            while (next() != '}') {
                String k = string();
                expect(':');
                m.put(k, value());
                if (next() == ',') {
                    pos++;
                }
            }
            pos++;
            return m;
        }
        if (c == '[') {
            List<Object> l = new ArrayList<>();
            pos++;
            while (next() != ']') {
                l.add(value());
                if (next() == ',') {
                    pos++;
                }
            }
            pos++;
            return l;
        }
        if (c == '"') {
            return string();
        }
        int start = pos;
        while (pos < text.length() && "-+0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
        return Long.parseLong(text.substring(start, pos));
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        for (char c; (c = text.charAt(pos++)) != '"'; ) {
            sb.append(c == '\\' ? text.charAt(pos++) : c);
        }
        return sb.toString();
    }

    private char next() {
        skip();
        return text.charAt(pos);
    }

    private void expect(char c) {
        if (next() != c) {
            throw new IllegalStateException("expected " + c + " at " + pos);
        }
        pos++;
    }

    private void skip() {
        while (Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }
}
