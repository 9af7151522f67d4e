package jwg.interop;

/**
 * A UDP relay that delays every datagram, each way, by DELAY ± JITTER ms drawn at random for each one (so datagrams
 * also overtake one another): this machine's kernel has no netem, so a small python3 program in b's namespace stands
 * in the path. a sends to {@link #toB} (b's underlay address, port portForA) and hears b from there; the relay sends
 * to b's WireGuard port from an ephemeral port of that address, which becomes b's endpoint for a.
 */
final class JitterRelay implements AutoCloseable {
    private static final String PROGRAM = """
            import heapq, itertools, random, select, socket, sys, time
            host, port, b_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            delay, jitter = float(sys.argv[4]) / 1000, float(sys.argv[5]) / 1000
            def bound(p):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((host, p)); s.setblocking(False)
                return s
            from_a, from_b = bound(port), bound(0)
            a_at, queue, order, sent = None, [], itertools.count(), 0
            print("relay ready", flush=True)
            while True:
                wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
                ready, _, _ = select.select([from_a, from_b], [], [], wait)
                now = time.monotonic()
                for s in ready:
                    for _ in range(64):
                        try:
                            data, src = s.recvfrom(65536)
                        except BlockingIOError:
                            break
                        if s is from_a:
                            a_at, out, dest = src, from_b, (host, b_port)
                        elif a_at is None:
                            continue
                        else:
                            out, dest = from_a, a_at
                        due = now + max(0.0, delay + random.uniform(-jitter, jitter))
                        heapq.heappush(queue, (due, next(order), out, data, dest))
                now = time.monotonic()
                while queue and queue[0][0] <= now:
                    _, _, out, data, dest = heapq.heappop(queue)
                    try:
                        out.sendto(data, dest); sent += 1
                    except OSError:
                        pass
            """;

    /** The address:port a sends to (its endpoint for b). */
    final String toB;
    private final Shell.Background process;

    /** Starts the relay on b's underlay address, port portForA, delaying by delayMs ± jitterMs each way. */
    JitterRelay(Node b, int portForA, int delayMs, int jitterMs) {
        toB = b.underlay4 + ":" + portForA;
        process = b.ns.spawn("python3", "-u", "-c", PROGRAM, b.underlay4, Integer.toString(portForA),
                Integer.toString(b.port), Integer.toString(delayMs), Integer.toString(jitterMs));
        if (!Shell.eventually(10, () -> process.out().contains("relay ready") || !process.isAlive())
                || !process.isAlive()) {
            close();
            throw new AssertionError("the relay did not start: " + process.out());
        }
    }

    @Override
    public void close() {
        process.close();
    }
}
