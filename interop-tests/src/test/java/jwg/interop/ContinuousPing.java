package jwg.interop;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Continuous traffic that measures itself: {@code ping -D -i 0.1} from a namespace, left running. Every reply carries
 * its arrival time (Unix time, the clock {@link System#currentTimeMillis} reads) and round-trip time, so the time a
 * packet was sent is known too: that is how long traffic stopped after an event and whether any was lost.
 */
final class ContinuousPing implements AutoCloseable {
    /** One echo reply: its sequence number, when it arrived and when its request left (Unix seconds). */
    record Reply(int seq, double arrived, double sent) {}

    private static final Pattern REPLY =
            Pattern.compile("^\\[(\\d+\\.\\d+)\\] \\d+ bytes from .*icmp_seq=(\\d+) .*time=([0-9.]+) ms");

    private final Shell.Background ping;
    private final String what;

    ContinuousPing(Netns from, String address) {
        // stdbuf: ping's stdout is a pipe here, which stdio would otherwise fill block by block.
        ping = from.spawn("stdbuf", "-oL", "ping", "-n", "-D", "-i", "0.1", address);
        what = "ping from " + from.name + " to " + address;
    }

    /** The replies so far, in arrival order. */
    List<Reply> replies() {
        List<Reply> out = new ArrayList<>();
        for (String line : ping.out().split("\n")) {
            Matcher m = REPLY.matcher(line);
            if (m.find()) {
                double arrived = Double.parseDouble(m.group(1));
                out.add(new Reply(Integer.parseInt(m.group(2)), arrived, arrived - Double.parseDouble(m.group(3)) / 1e3));
            }
        }
        return out;
    }

    /**
     * Seconds from atMillis (Unix time) to the first reply to a request sent after it (replies to earlier requests
     * say nothing about the path after the event), or NaN if none has come yet.
     */
    double recoveredAfter(long atMillis) {
        double at = atMillis / 1e3;
        for (Reply r : replies()) {
            if (r.sent() >= at) {
                return r.arrived() - at;
            }
        }
        return Double.NaN;
    }

    /** Waits up to timeoutSeconds for {@link #recoveredAfter}; the seconds it measured, or NaN. */
    double awaitRecovery(long atMillis, int timeoutSeconds) {
        Shell.eventually(timeoutSeconds, () -> !Double.isNaN(recoveredAfter(atMillis)));
        return recoveredAfter(atMillis);
    }

    /** The longest time between two consecutive replies that arrived between fromMillis and toMillis (seconds). */
    double longestGap(long fromMillis, long toMillis) {
        double longest = 0;
        Double previous = null;
        for (Reply r : replies()) {
            if (r.arrived() < fromMillis / 1e3 || r.arrived() > toMillis / 1e3) {
                continue;
            }
            if (previous != null) {
                longest = Math.max(longest, r.arrived() - previous);
            }
            previous = r.arrived();
        }
        return longest;
    }

    /** Requests sent between fromMillis and toMillis that got no reply (by sequence number, between replies). */
    int lost(long fromMillis, long toMillis) {
        List<Integer> seqs = new ArrayList<>();
        for (Reply r : replies()) {
            if (r.sent() >= fromMillis / 1e3 && r.sent() <= toMillis / 1e3) {
                seqs.add(r.seq());
            }
        }
        if (seqs.isEmpty()) {
            return Integer.MAX_VALUE;
        }
        int first = seqs.stream().min(Integer::compare).get();
        int last = seqs.stream().max(Integer::compare).get();
        return last - first + 1 - (int) seqs.stream().distinct().count();
    }

    @Override
    public String toString() {
        return what;
    }

    @Override
    public void close() {
        ping.close();
    }
}
