package jwg.roaming;

import java.util.ArrayList;
import java.util.List;

/**
 * A peer's endpoints as roaming follows them: an ordered list of candidates, each a host name or a literal address
 * with a port, the first the most preferred (a primary site, then a backup; one ISP, then another), and how long a
 * more preferred one must keep answering health checks before roaming fails back to it.
 *
 * <p>Written as {@code host:port, host:port, ...} (the form of {@code #jwg: Endpoint} in a wg-quick file, of
 * {@code jwg roam} and of the UAPI key {@code jwg_endpoint_host}); one name alone is the plain case, where the
 * preference is only IPv6 over IPv4 among its addresses.
 */
public record Endpoints(List<HostPort> entries, long failbackAfterSeconds) {
    /** More would only multiply resolutions and probe waves; nobody has eight sites for one peer. */
    public static final int MAX_ENTRIES = 8;
    /**
     * How long a more preferred endpoint must answer before roaming goes back to it: long enough that a site which
     * comes back for a few seconds between outages is not used, short enough that the backup (often metered, or
     * slower) is left within a minute or so.
     */
    public static final long DEFAULT_FAILBACK_AFTER_SECONDS = 60;
    /** Bounds of the hold-down: a day is plenty; under a few seconds there is no hold-down at all. */
    public static final long MIN_FAILBACK_AFTER_SECONDS = 3;
    public static final long MAX_FAILBACK_AFTER_SECONDS = 86_400;

    public Endpoints {
        entries = List.copyOf(entries);
        if (entries.isEmpty() || entries.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("an endpoint list has 1 to " + MAX_ENTRIES + " entries, not "
                    + entries.size());
        }
        for (int i = 0; i < entries.size(); i++) {
            if (entries.indexOf(entries.get(i)) != i) {
                throw new IllegalArgumentException(entries.get(i) + " is listed twice");
            }
        }
        if (failbackAfterSeconds < MIN_FAILBACK_AFTER_SECONDS || failbackAfterSeconds > MAX_FAILBACK_AFTER_SECONDS) {
            throw new IllegalArgumentException("the fail-back hold-down is " + MIN_FAILBACK_AFTER_SECONDS + " to "
                    + MAX_FAILBACK_AFTER_SECONDS + " s, not " + failbackAfterSeconds);
        }
    }

    /** One name, the default hold-down. */
    public static Endpoints of(HostPort one) {
        return new Endpoints(List.of(one), DEFAULT_FAILBACK_AFTER_SECONDS);
    }

    /** Parses "host:port, [v6]:port, ..." with the default hold-down; IllegalArgumentException says what is wrong. */
    public static Endpoints parse(String text) {
        return parse(text, DEFAULT_FAILBACK_AFTER_SECONDS);
    }

    public static Endpoints parse(String text, long failbackAfterSeconds) {
        List<HostPort> entries = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.strip();
            if (p.isEmpty()) {
                throw new IllegalArgumentException("an empty entry in '" + text + "'");
            }
            entries.add(HostPort.parse(p));
        }
        return new Endpoints(entries, failbackAfterSeconds);
    }

    /**
     * Whether roaming has anything to do for it: a name to resolve, or a choice between several entries. A lone
     * literal address is the device's plain endpoint and needs no roaming.
     */
    public boolean worthFollowing() {
        return entries.size() > 1 || entries.get(0).isName();
    }

    public Endpoints withFailbackAfter(long seconds) {
        return new Endpoints(entries, seconds);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (HostPort e : entries) {
            sb.append(sb.isEmpty() ? "" : ", ").append(e);
        }
        return sb.toString();
    }
}
