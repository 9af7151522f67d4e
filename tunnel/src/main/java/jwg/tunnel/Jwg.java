package jwg.tunnel;

import java.io.IOException;
import java.security.SecureRandom;

/**
 * The jwg command: wireguard-go's command line ({@code jwg [-f|--foreground] IFNAME}, {@code --version}) plus
 * wireguard-tools' key tools ({@code genkey}, {@code genpsk}, {@code pubkey}).
 */
public final class Jwg {
    private Jwg() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    static int run(String[] args) throws Exception {
        if (args.length == 0) {
            return usage();
        }
        return switch (args[0]) {
            case "genkey" -> keyTool().genkey(args);
            case "genpsk" -> keyTool().genpsk(args);
            case "pubkey" -> keyTool().pubkey(args);
            case "--version", "-v" -> version();
            case "--cds-training" -> Training.run();
            case "roam" -> RoamCommand.run(args);
            case "drops" -> DropsCommand.run(args);
            case "--help", "-h" -> {
                usage();
                yield 0;
            }
            case "-f", "--foreground" -> args.length == 2 ? Daemon.start(args[1], true) : usage();
            default -> args.length == 1 && !args[0].startsWith("-") ? Daemon.start(args[0], false) : usage();
        };
    }

    /**
     * Made only for the key commands: a SecureRandom loads the security providers and seeds itself, ~30 ms that a
     * daemon's start spent before it had even opened its TUN device (the daemon's own come later, when first used).
     */
    private static KeyTool keyTool() {
        return new KeyTool(System.in, System.out, System.err, new SecureRandom());
    }

    private static int usage() {
        System.err.print("""
                Usage: jwg [-f/--foreground] INTERFACE-NAME
                       jwg genkey | genpsk | pubkey
                       jwg roam INTERFACE-NAME [PUBLIC-KEY HOST:PORT|none]
                       jwg drops INTERFACE-NAME
                       jwg --version
                """);
        return 1;
    }

    private static int version() {
        String v = Jwg.class.getPackage().getImplementationVersion();
        System.out.print("jwg v" + (v == null ? "dev" : v) + "\n\n"
                + "Userspace WireGuard daemon for Linux, in Java, with endpoint roaming built in.\n");
        return 0;
    }
}
