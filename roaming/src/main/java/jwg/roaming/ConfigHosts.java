package jwg.roaming;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * resolve), and jwg keeps trying with back-off and connects once it does. It wins over wg's Endpoint line. It may
 * also be a list, {@code #jwg: Endpoint = primary.example:51820, 192.0.2.7:51820, backup.example:51820}, names and
 * literal addresses in order of preference (more lines append to it); {@code #jwg: FailbackAfter = 60} sets how many
 * seconds a more preferred entry must answer health checks before jwg goes back to it (see {@link Endpoints}). In the
 * [Interface], {@code #jwg: Hook = command} is the command run on peers' events (see the tunnel's Hooks); it cannot
 * contain '#', which starts a comment there as anywhere.
 */
public final class ConfigHosts {
    /** What starts one of jwg's lines, after the '#' and any blanks. */
    static final String PREFIX = "jwg:";

    private ConfigHosts() {}

    /** hook: the [Interface]'s #jwg: Hook, or null. */
    public record Parsed(Map<Key, Endpoints> hosts, String hook, List<String> problems) {}

    public static Parsed read(Path file) throws IOException {
        return parse(Files.readAllLines(file), file.toString());
    }

    static Parsed parse(List<String> lines, String name) {
        Map<Key, Endpoints> hosts = new HashMap<>();
        List<Problem> problems = new ArrayList<>();
        boolean inPeer = false;
        boolean inInterface = false;
        String hook = null;
        Key key = null;
        HostPort endpoint = null;
        List<HostPort> listed = new ArrayList<>();
        long failbackAfter = Endpoints.DEFAULT_FAILBACK_AFTER_SECONDS;
        int endpointLine = 0;
        for (int i = 0; i <= lines.size(); i++) {
            String raw = i < lines.size() ? lines.get(i) : "[End]";
            String ours = jwgLine(raw);
            String line = ours != null ? ours : stripComment(raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (ours == null && line.startsWith("[")) {
                if (inPeer) {
                    Endpoints chosen = endpoints(listed, endpoint, failbackAfter, name, endpointLine, problems);
                    if (key != null && chosen != null) {
                        hosts.put(key, chosen);
                    } else if (key == null && (endpoint != null || !listed.isEmpty())) {
                        problems.add(new Problem(endpointLine, name + ":" + endpointLine
                                + ": a [Peer] with an Endpoint but no PublicKey"));
                    }
                }
                inPeer = line.equalsIgnoreCase("[Peer]");
                inInterface = line.equalsIgnoreCase("[Interface]");
                key = null;
                endpoint = null;
                listed = new ArrayList<>();
                failbackAfter = Endpoints.DEFAULT_FAILBACK_AFTER_SECONDS;
                continue;
            }
            String where = name + ":" + (i + 1) + ": ";
            int eq = line.indexOf('=');
            if (ours != null && inInterface && eq >= 0 && line.substring(0, eq).strip().equalsIgnoreCase("Hook")) {
                hook = line.substring(eq + 1).strip();
                continue;
            }
            if (ours != null && (!inPeer || eq < 0)) {
                problems.add(new Problem(i + 1, where + "a #" + PREFIX + " line is Key = value: Hook in the"
                        + " [Interface], Endpoint or FailbackAfter in a [Peer]"));
                continue;
            }
            if (!inPeer || eq < 0) {
                continue;
            }
            String k = line.substring(0, eq).strip();
            String v = line.substring(eq + 1).strip();
            try {
                if (ours != null) {
                    if (k.equalsIgnoreCase("Endpoint")) {
                        // Parsed whole before any of it counts: a bad entry drops the line, not half of it.
                        List<HostPort> more = Endpoints.parse(v).entries();
                        if (listed.isEmpty()) {
                            endpointLine = i + 1;
                        }
                        listed.addAll(more);
                    } else if (k.equalsIgnoreCase("FailbackAfter")) {
                        failbackAfter = seconds(v);
                        Endpoints.of(new HostPort("x", 1)).withFailbackAfter(failbackAfter); // its bounds, here
                    } else {
                        throw new IllegalArgumentException("not a key of jwg's in a [Peer] (there are Endpoint and"
                                + " FailbackAfter)");
                    }
                } else if (k.equalsIgnoreCase("PublicKey")) {
                    key = Key.fromBase64(v);
                } else if (k.equalsIgnoreCase("Endpoint")) {
                    endpoint = HostPort.parse(v);
                    endpointLine = !listed.isEmpty() ? endpointLine : i + 1;
                }
            } catch (IllegalArgumentException e) {
                problems.add(new Problem(i + 1, where + (ours != null ? "#" + PREFIX + " " : "") + k + ": "
                        + e.getMessage()));
            }
        }
        problems.sort(java.util.Comparator.comparingInt(Problem::line));
        return new Parsed(hosts, hook == null || hook.isEmpty() ? null : hook,
                problems.stream().map(Problem::text).toList());
    }

    /** A problem and its line, so that problems found at the end of a section still come out in line order. */
    private record Problem(int line, String text) {}

    /**
     * A [Peer]'s endpoints for roaming: jwg's list if it has one (which wins over wg's Endpoint), else wg's Endpoint if
     * it is a name; null if neither.
     */
    private static Endpoints endpoints(List<HostPort> listed, HostPort wgEndpoint, long failbackAfter, String name,
                                       int line, List<Problem> problems) {
        try {
            if (!listed.isEmpty()) {
                Endpoints e = new Endpoints(listed, failbackAfter);
                if (!e.worthFollowing()) {
                    throw new IllegalArgumentException("#" + PREFIX + " Endpoint: '" + listed.get(0)
                            + "' is an address: give it to wg as Endpoint, or list more than one");
                }
                return e;
            }
            return wgEndpoint != null && wgEndpoint.isName() ? new Endpoints(List.of(wgEndpoint), failbackAfter)
                    : null;
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(line, name + ":" + line + ": " + (e.getMessage().startsWith("#" + PREFIX) ? ""
                    : "#" + PREFIX + " Endpoint: ") + e.getMessage()));
            return null;
        }
    }

    /** A number of seconds, with or without a trailing "s". */
    private static long seconds(String v) {
        String digits = v.endsWith("s") ? v.substring(0, v.length() - 1).strip() : v;
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a number of seconds, got '" + v + "'");
        }
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
