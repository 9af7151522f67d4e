package jwg.roaming;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jwg.noise.Key;

/**
 * The host names of a wg-quick configuration file: for each [Peer] whose Endpoint is a name (not an address), its
 * PublicKey and host:port. wg and wg-quick resolve names before the daemon sees them, so this file (or the jwg roam
 * command) is how the daemon learns them. A line that cannot be understood is reported with its number; the rest
 * of the file still counts.
 *
 * <p>jwg's own lines are comments, which wg and wg-quick skip: {@code #jwg: Key = value}. In a [Peer],
 * {@code #jwg: Endpoint = host:port} names a host for jwg alone: with no Endpoint line for wg, the stock
 * {@code wg-quick up} succeeds while the name does not resolve (wg fails the whole interface on a name it cannot
 * resolve), and jwg keeps trying with back-off and connects once it does. It wins over wg's Endpoint line. In the
 * [Interface], {@code #jwg: Hook = command} is the command run on peers' events (see the tunnel's Hooks); it cannot
 * contain '#', which starts a comment there as anywhere.
 */
public final class ConfigHosts {
    /** What starts one of jwg's lines, after the '#' and any blanks. */
    static final String PREFIX = "jwg:";

    private ConfigHosts() {}

    /** hook: the [Interface]'s #jwg: Hook, or null. */
    public record Parsed(Map<Key, HostPort> hosts, String hook, List<String> problems) {}

    public static Parsed read(Path file) throws IOException {
        return parse(Files.readAllLines(file), file.toString());
    }

    static Parsed parse(List<String> lines, String name) {
        Map<Key, HostPort> hosts = new HashMap<>();
        List<String> problems = new java.util.ArrayList<>();
        boolean inPeer = false;
        boolean inInterface = false;
        String hook = null;
        Key key = null;
        HostPort endpoint = null;
        HostPort jwgEndpoint = null;
        int endpointLine = 0;
        for (int i = 0; i <= lines.size(); i++) {
            String raw = i < lines.size() ? lines.get(i) : "[End]";
            String ours = jwgLine(raw);
            String line = ours != null ? ours : stripComment(raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (ours == null && line.startsWith("[")) {
                HostPort chosen = jwgEndpoint != null ? jwgEndpoint : endpoint;
                if (inPeer && key != null && chosen != null && chosen.isName()) {
                    hosts.put(key, chosen);
                } else if (inPeer && key == null && chosen != null) {
                    problems.add(name + ":" + endpointLine + ": a [Peer] with an Endpoint but no PublicKey");
                }
                inPeer = line.equalsIgnoreCase("[Peer]");
                inInterface = line.equalsIgnoreCase("[Interface]");
                key = null;
                endpoint = null;
                jwgEndpoint = null;
                continue;
            }
            String where = name + ":" + (i + 1) + ": ";
            int eq = line.indexOf('=');
            if (ours != null && inInterface && eq >= 0 && line.substring(0, eq).strip().equalsIgnoreCase("Hook")) {
                hook = line.substring(eq + 1).strip();
                continue;
            }
            if (ours != null && (!inPeer || eq < 0)) {
                problems.add(where + "a #" + PREFIX + " line is Key = value: Hook in the [Interface], Endpoint in a"
                        + " [Peer]");
                continue;
            }
            if (!inPeer || eq < 0) {
                continue;
            }
            String k = line.substring(0, eq).strip();
            String v = line.substring(eq + 1).strip();
            try {
                if (ours != null) {
                    if (!k.equalsIgnoreCase("Endpoint")) {
                        throw new IllegalArgumentException("not a key of jwg's in a [Peer] (there is Endpoint)");
                    }
                    HostPort hp = HostPort.parse(v);
                    if (!hp.isName()) {
                        throw new IllegalArgumentException("'" + v + "' is an address: give it to wg as Endpoint");
                    }
                    jwgEndpoint = hp;
                    endpointLine = i + 1;
                } else if (k.equalsIgnoreCase("PublicKey")) {
                    key = Key.fromBase64(v);
                } else if (k.equalsIgnoreCase("Endpoint")) {
                    endpoint = HostPort.parse(v);
                    endpointLine = jwgEndpoint != null ? endpointLine : i + 1;
                }
            } catch (IllegalArgumentException e) {
                problems.add(where + (ours != null ? "#" + PREFIX + " " : "") + k + ": " + e.getMessage());
            }
        }
        return new Parsed(hosts, hook == null || hook.isEmpty() ? null : hook, problems);
    }

    /** The text after "#jwg:" if the line is one of jwg's (blanks allowed around the '#'), else null. */
    private static String jwgLine(String line) {
        String s = line.strip();
        if (!s.startsWith("#")) {
            return null;
        }
        s = s.substring(1).stripLeading();
        return s.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
                ? stripComment(s.substring(PREFIX.length())).strip() : null;
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return hash < 0 ? line : line.substring(0, hash);
    }
}
