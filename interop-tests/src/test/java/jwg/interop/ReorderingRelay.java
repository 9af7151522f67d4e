package jwg.interop;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A UDP relay between two WireGuard peers that reorders: this machine's kernel has no netem, so a small python3
 * program in b's namespace stands in the path. a sends to {@link #toB} and hears b from there; b sends to
 * {@link #toA} and hears a from there (so each peer's endpoint is a port of the relay, and roaming keeps it so).
 * <p>It starts as a plain relay (for a baseline). Once {@link #reorder} has switched it on, a fraction of transport
 * data messages (type 4) is held back and sent only after 1 to {@value #DEPTH} later datagrams of the same direction
 * went ahead of it, or after {@value #LATE_MS} ms if traffic pauses: the receiver sees counters out of order, well
 * inside any replay window (the kernel's and jwg's span 8128 counters), as a multipath link or a busy router would
 * deliver them. Handshake messages always pass in order, so that the test is about the
 * replay window and not about retransmitted handshakes. Nothing is dropped here: loss is iptables' job.
 * <p>Twice a second it prints what it did; {@link #stats} reads the latest line.
 */
final class ReorderingRelay implements AutoCloseable {
    static final int DEPTH = 16;
    static final int LATE_MS = 20;

    private static final String PROGRAM = """
            import random, select, signal, socket, sys, time
            host, port_a, port_b, b_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
            a_default, hold_on = (sys.argv[5], int(sys.argv[6])), float(sys.argv[7])
            DEPTH, LATE = int(sys.argv[8]), int(sys.argv[9]) / 1000.0
            hold = 0.0
            def reorder(signum, frame):
                global hold
                hold = hold_on
            signal.signal(signal.SIGUSR1, reorder)
            def bound(port):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE: root may pass rmem_max
                except OSError:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
                s.bind((host, port)); s.setblocking(False)
                return s
            class Way:
                def __init__(self, out):
                    self.out, self.held, self.sent, self.held_total, self.overtaken = out, [], 0, 0, 0
                def forward(self, data, dest, now):
                    if data[0] == 4 and random.random() < hold:
                        self.held.append([random.randint(1, DEPTH), now + LATE, data, dest, self.sent])
                        self.held_total += 1
                        return
                    self.send(data, dest)
                    for h in self.held:
                        h[0] -= 1
                    self.release(now)
                def release(self, now):
                    keep = []
                    for h in self.held:
                        if h[0] <= 0 or h[1] <= now:
                            if self.sent > h[4]:
                                self.overtaken += 1
                            self.send(h[2], h[3])
                        else:
                            keep.append(h)
                    self.held = keep
                def send(self, data, dest):
                    try:
                        self.out.sendto(data, dest); self.sent += 1
                    except OSError:
                        pass
            from_a, from_b = bound(port_a), bound(port_b)
            a_at, b_at = a_default, (host, b_port)
            ab, ba = Way(from_b), Way(from_a)
            print("relay ready", flush=True)
            last = 0.0
            while True:
                ready, _, _ = select.select([from_a, from_b], [], [], 0.005)
                now = time.monotonic()
                for s in ready:
                    for _ in range(64):
                        try:
                            data, src = s.recvfrom(65536)
                        except BlockingIOError:
                            break
                        if not data:
                            continue
                        if s is from_a:
                            a_at = src; ab.forward(data, b_at, now)
                        else:
                            ba.forward(data, a_at, now)
                ab.release(now); ba.release(now)
                if now - last >= 0.5:
                    last = now
                    print(f"relay sent {ab.sent} {ba.sent} overtaken {ab.overtaken} {ba.overtaken} hold {hold}",
                          flush=True)
            """;
    private static final Pattern STATS =
            Pattern.compile("relay sent (\\d+) (\\d+) overtaken (\\d+) (\\d+) hold ([0-9.]+)");

    /** What the relay forwarded in each direction, and how many of those were overtaken by a later datagram. */
    record Stats(long sentToB, long sentToA, long overtakenToB, long overtakenToA, boolean reordering) {
        long sent() {
            return sentToB + sentToA;
        }

        long overtaken() {
            return overtakenToB + overtakenToA;
        }
    }

    /** The address:port a sends to (its endpoint for b). */
    final String toB;
    /** The address:port b sends to (its endpoint for a). */
    final String toA;
    private final Shell.Background process;

    /**
     * Starts the relay in b's namespace on b's underlay address, ports portForA (a's side) and portForB (b's side),
     * to hold back the fraction hold of transport data messages once {@link #reorder} is called; returns once it
     * listens.
     */
    ReorderingRelay(Node a, Node b, int portForA, int portForB, double hold) {
        toB = b.underlay4 + ":" + portForA;
        toA = b.underlay4 + ":" + portForB;
        process = b.ns.spawn("python3", "-u", "-c", PROGRAM, b.underlay4, Integer.toString(portForA),
                Integer.toString(portForB), Integer.toString(b.port), a.underlay4, Integer.toString(a.port),
                Double.toString(hold), Integer.toString(DEPTH), Integer.toString(LATE_MS));
        if (!Shell.eventually(10, () -> process.out().contains("relay ready") || !process.isAlive())
                || !process.isAlive()) {
            close();
            throw new AssertionError("the relay did not start: " + process.out());
        }
    }

    /** Switches reordering on (SIGUSR1), and returns once the relay says it reorders. */
    void reorder() {
        Shell.run("kill", "-USR1", Long.toString(process.pid())).orFail("SIGUSR1 to the relay");
        if (!Shell.eventually(5, () -> stats().reordering())) {
            throw new AssertionError("the relay did not switch reordering on: " + process.out());
        }
    }

    /** The latest counts it printed (at most half a second old); fails if it died. */
    Stats stats() {
        if (!process.isAlive()) {
            throw new AssertionError("the relay died: " + process.out());
        }
        Matcher m = STATS.matcher(process.out());
        Stats latest = new Stats(0, 0, 0, 0, false);
        while (m.find()) {
            latest = new Stats(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                    Long.parseLong(m.group(4)), Double.parseDouble(m.group(5)) > 0);
        }
        return latest;
    }

    @Override
    public void close() {
        process.close();
    }
}
