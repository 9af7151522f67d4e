package jwg.tunnel;

import java.io.IOException;

/**
 * {@code jwg drops IFNAME}: how many packets the interface dropped since it started, per reason (jwg.noise.Drop),
 * one "reason count" line each; nothing when it dropped none. Unauthenticated packets are dropped without a word on
 * the wire, so this is where an operator sees a flood, a misrouted peer or a pipeline that falls behind.
 */
final class DropsCommand {
    private DropsCommand() {}

    static int run(String[] args) {
        if (args.length != 2) {
            System.err.println("Usage: jwg drops IFNAME");
            return 1;
        }
        try {
            UapiClient.Reply reply = UapiClient.request(args[1], "jwg_drops=1\n\n");
            if (reply.errno() != 0) {
                System.err.println("jwg: " + args[1] + " does not report drops (is it jwg?)");
                return 1;
            }
            for (String line : reply.lines()) {
                int eq = line.indexOf('=');
                System.out.printf("%-22s %s%n", line.substring(0, eq), line.substring(eq + 1));
            }
            return 0;
        } catch (IOException | RuntimeException e) {
            System.err.println("jwg: " + e.getMessage());
            return 1;
        }
    }
}
