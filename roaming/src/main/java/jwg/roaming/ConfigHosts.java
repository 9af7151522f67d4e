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
 */
public final class ConfigHosts {
    private ConfigHosts() {}

    public record Parsed(Map<Key, HostPort> hosts, List<String> problems) {}

    public static Parsed read(Path file) throws IOException {
        return parse(Files.readAllLines(file), file.toString());
    }

    static Parsed parse(List<String> lines, String name) {
        Map<Key, HostPort> hosts = new HashMap<>();
        List<String> problems = new java.util.ArrayList<>();
        boolean inPeer = false;
        Key key = null;
        HostPort endpoint = null;
        int endpointLine = 0;
        for (int i = 0; i <= lines.size(); i++) {
            String line = i < lines.size() ? stripComment(lines.get(i)).strip() : "[End]";
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("[")) {
                if (inPeer && key != null && endpoint != null && endpoint.isName()) {
                    hosts.put(key, endpoint);
                } else if (inPeer && key == null && endpoint != null) {
                    problems.add(name + ":" + endpointLine + ": a [Peer] with an Endpoint but no PublicKey");
                }
                inPeer = line.equalsIgnoreCase("[Peer]");
                key = null;
                endpoint = null;
                continue;
            }
            int eq = line.indexOf('=');
            if (!inPeer || eq < 0) {
                continue;
            }
            String k = line.substring(0, eq).strip();
            String v = line.substring(eq + 1).strip();
            try {
                if (k.equalsIgnoreCase("PublicKey")) {
                    key = Key.fromBase64(v);
                } else if (k.equalsIgnoreCase("Endpoint")) {
                    endpoint = HostPort.parse(v);
                    endpointLine = i + 1;
                }
            } catch (IllegalArgumentException e) {
                problems.add(name + ":" + (i + 1) + ": " + k + ": " + e.getMessage());
            }
        }
        return new Parsed(hosts, problems);
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return hash < 0 ? line : line.substring(0, hash);
    }
}
