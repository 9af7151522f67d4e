package jwg.tunnel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import jwg.noise.Key;
import jwg.roaming.HostPort;

/**
 * {@code jwg roam IFNAME} shows, per peer that has a host name, its addresses with TTLs, probe results and RTTs, the
 * current endpoint and the latest decisions; {@code jwg roam IFNAME PUBKEY HOST:PORT} makes a running interface
 * follow a host name for a peer, {@code ... PUBKEY none} stops it. Talks to the daemon over its UAPI socket.
 */
final class RoamCommand {
    private RoamCommand() {}

    static int run(String[] args) throws IOException {
        if (args.length != 2 && args.length != 4) {
            System.err.println("Usage: jwg roam IFNAME [PUBLIC-KEY HOST:PORT|none]");
            return 1;
        }
        String request;
        if (args.length == 2) {
            request = "jwg_roam=1\n\n";
        } else {
            Key key;
            try {
                key = Key.fromBase64(args[2]);
                if (!args[3].equals("none")) {
                    HostPort.parse(args[3]);
                }
            } catch (IllegalArgumentException e) {
                System.err.println("jwg: " + e.getMessage());
                return 1;
            }
            request = "set=1\npublic_key=" + key.toHex() + "\nupdate_only=true\njwg_endpoint_host="
                    + (args[3].equals("none") ? "" : args[3]) + "\n\n";
        }
        java.nio.file.Path socket = UapiServer.RUN_DIR.resolve(args[1] + ".sock");
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            OutputStream out = Channels.newOutputStream(ch);
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("errno=")) {
                    int errno = Integer.parseInt(line.substring(6));
                    if (errno != 0) {
                        System.err.println("jwg: the daemon refused it (errno " + errno + ")");
                        return 1;
                    }
                    return 0;
                }
                System.out.println(line);
            }
            System.err.println("jwg: " + args[1] + " does not speak jwg's roaming extension (is it jwg?)");
            return 1;
        } catch (IOException e) {
            System.err.println("jwg: cannot reach " + socket + ": " + e.getMessage());
            return 1;
        }
    }
}
