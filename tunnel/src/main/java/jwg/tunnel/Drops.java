package jwg.tunnel;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import jwg.noise.Drop;

/**
 * How many packets the device dropped, per reason, since it started: what `jwg drops IFNAME` prints. Counting is a
 * striped add (LongAdder), so threads that drop at once under a flood do not contend on one counter.
 */
final class Drops {
    private final LongAdder[] counts = new LongAdder[Drop.values().length];

    Drops() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void count(Drop why) {
        counts[why.ordinal()].increment();
    }

    /** n packets dropped at once (a super-packet's segments that were never cut out). */
    void count(Drop why, int n) {
        if (n > 0) {
            counts[why.ordinal()].add(n);
        }
    }

    long get(Drop why) {
        return counts[why.ordinal()].sum();
    }

    /** The reasons counted at least once, in the enum's order. */
    Map<Drop, Long> nonZero() {
        Map<Drop, Long> m = new LinkedHashMap<>();
        for (Drop d : Drop.values()) {
            long n = get(d);
            if (n > 0) {
                m.put(d, n);
            }
        }
        return m;
    }
}
