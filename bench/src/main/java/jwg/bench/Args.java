package jwg.bench;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of the harness's tools: positional arguments, then {@code --name value} options with defaults.
 * A bad command line ends the tool with status 2 and the usage line, as the bash harness that calls it expects.
 */
final class Args {
    private final String usage;
    private final List<String> positional = new ArrayList<>();
    private final Map<String, String> options = new HashMap<>();

    private Args(String usage) {
        this.usage = usage;
    }

    static Args parse(String[] argv, String usage) {
        Args a = new Args(usage);
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].startsWith("--")) {
                if (i + 1 >= argv.length) {
                    a.fail(argv[i] + " needs a value");
                }
                a.options.put(argv[i].substring(2), argv[++i]);
            } else {
                a.positional.add(argv[i]);
            }
        }
        return a;
    }

    String positional(int index) {
        if (index >= positional.size()) {
            fail("missing argument " + (index + 1));
        }
        return positional.get(index);
    }

    /** host:port, the host an IPv4 literal or a name (IPv6 literals in brackets). */
    InetSocketAddress address(int index) {
        String s = positional(index);
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            fail("not host:port: " + s);
        }
        String host = s.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(s.substring(colon + 1)));
    }

    double number(String name, double otherwise) {
        String v = options.get(name);
        try {
            return v == null ? otherwise : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            fail("--" + name + " is not a number: " + v);
            return otherwise;
        }
    }

    int integer(String name, int otherwise) {
        return (int) number(name, otherwise);
    }

    String text(String name, String otherwise) {
        return options.getOrDefault(name, otherwise);
    }

    void fail(String why) {
        System.err.println(why);
        System.err.println("usage: " + usage);
        System.exit(2);
    }
}
