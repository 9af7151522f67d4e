package jwg.tunnel;

import java.io.IOException;
import jwg.noise.Key;
import jwg.roaming.Endpoints;

/**
 * {@code jwg roam IFNAME} shows, per peer that has a host name, its addresses with TTLs, probe results and RTTs, the
 * current endpoint and the latest decisions; {@code jwg roam IFNAME PUBKEY HOST:PORT} makes a running interface
 * follow a host name for a peer, {@code ... PUBKEY HOST:PORT,HOST:PORT [SECONDS]} an endpoint list in order of
 * preference (with its fail-back hold-down), {@code ... PUBKEY none} stops it. Talks to the daemon over its UAPI socket.
 */
final class RoamCommand {
    private RoamCommand() {}

    static int run(String[] args) throws IOException {
        if (args.length != 2 && args.length != 4 && args.length != 5) {
            System.err.println("Usage: jwg roam IFNAME [PUBLIC-KEY HOST:PORT[,HOST:PORT...] [FAILBACK-SECONDS] | none]");
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
                    Endpoints e = Endpoints.parse(args[3]);
                    if (args.length == 5) {
                        e.withFailbackAfter(Long.parseLong(args[4]));
                    }
                } else if (args.length == 5) {
                    throw new IllegalArgumentException("'none' takes no hold-down");
                }
            } catch (IllegalArgumentException e) {
                System.err.println("jwg: " + e.getMessage());
                return 1;
            }
            request = "set=1\npublic_key=" + key.toHex() + "\nupdate_only=true\njwg_endpoint_host="
                    + (args[3].equals("none") ? "" : args[3]) + "\n"
                    + (args.length == 5 ? "jwg_failback_after=" + Long.parseLong(args[4]) + "\n" : "") + "\n";
        }
        try {
            UapiClient.Reply reply = UapiClient.request(args[1], request);
            reply.lines().forEach(System.out::println);
            if (reply.errno() == UapiClient.Reply.NO_ERRNO) {
                System.err.println("jwg: " + args[1] + " gave no answer to it (is it jwg?)");
                return 1;
            }
            if (reply.errno() != 0) {
                // jwg refuses a bad value with -EINVAL, and so does a daemon without the roaming keys.
                System.err.println("jwg: the daemon refused it (errno " + reply.errno()
                        + "): a bad value, or a daemon without jwg's roaming extension");
                return 1;
            }
            return 0;
        } catch (IOException e) {
            System.err.println("jwg: " + e.getMessage());
            return 1;
        }
    }
}
