package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import jwg.noise.Message;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pipeline's ordering rule ({@link Pipeline}): however many workers seal and open, and in whatever order they
 * finish, each peer's packets leave in the order they went in. Outbound that is the order of Peer.send, which is
 * counter order; inbound it is arrival order, so the replay window judges each counter as a single thread would and
 * accepts it once.
 *
 * <p>Property tests over random interleavings of several peers' packets of random sizes, 0 to 8 workers, several
 * seeds, with every packet submitted to the workers or with the test's thread feeding as the device's TUN reader and
 * UDP loop do: a share of the crypto on itself, and batches (a read's segments to the peer at once, what it
 * finished handed on per read). The workers are made to finish out of order ({@link PipelineFixture} spins now and then on them), so a broken
 * rule shows as a packet out of place.
 */
class PipelineOrderTest {
    private static final int PEERS = 4;
    private static final int PACKETS = 4000;

    static Stream<Arguments> workersAndSeeds() {
        return Stream.of(false, true).flatMap(feeding -> IntStream.of(0, 1, 2, 4, 8).boxed()
                .flatMap(workers -> LongStream.of(1, 2, 3).mapToObj(seed -> Arguments.of(workers, seed, feeding))));
    }

    @ParameterizedTest(name = "{0} workers, seed {1}, feeding {2}")
    @MethodSource("workersAndSeeds")
    void eachPeersPacketsAreTransmittedInSendOrderWhichIsCounterOrder(int workers, long seed, boolean feeding) {
        Random random = new Random(seed);
        try (PipelineFixture f = new PipelineFixture(workers, PEERS, true, feeding)) {
            int[] sent = new int[PEERS];
            int peer = 0;
            for (int n = 0; n < PACKETS; ) {
                // Runs of one peer's packets as well as a mix; fed as a TUN read's batch of up to 45 segments.
                peer = random.nextInt(3) == 0 ? peer : random.nextInt(PEERS);
                int k = Math.min(PACKETS - n, feeding ? 1 + random.nextInt(45) : 1);
                int[] seqs = new int[k];
                int[] sizes = new int[k];
                for (int j = 0; j < k; j++) {
                    seqs[j] = sent[peer]++;
                    sizes[j] = size(random);
                }
                f.send(peer, seqs, sizes);
                n += k;
                pauseSometimes(random);
            }
            f.awaitLeft(PACKETS);

            for (int i = 0; i < PEERS; i++) {
                List<String> expected = new ArrayList<>(List.of("keepalive: counter 0"));
                for (int seq = 0; seq < sent[i]; seq++) {
                    expected.add("packet " + seq + ": counter " + (seq + 1));
                }
                assertInOrder(expected, f.transmitted(i), "what a transmitted to b" + i);
            }
            assertEquals(List.of(), f.surprises());
        }
    }

    @ParameterizedTest(name = "{0} workers, seed {1}, feeding {2}")
    @MethodSource("workersAndSeeds")
    void eachPeersDatagramsAreDeliveredInArrivalOrderAndEachCounterAcceptedOnce(int workers, long seed,
            boolean feeding) {
        Random random = new Random(seed);
        try (PipelineFixture f = new PipelineFixture(workers, PEERS, true, feeding)) {
            List<List<Datagram>> arrivals = new ArrayList<>();
            for (int i = 0; i < PEERS; i++) {
                // a's keepalive from the handshake (counter 0), then packets sealed with counters 1, 2...
                List<Datagram> stream = new ArrayList<>();
                stream.add(new Datagram("keepalive", f.datagrams(i).get(0)));
                for (int seq = 0; seq < PACKETS / PEERS; seq++) {
                    stream.add(new Datagram("packet " + i + "/" + seq, f.sealNow(i, seq, size(random))));
                }
                arrivals.add(arrivalOrder(stream, random));
            }

            // One thread's verdicts, in arrival order: the first copy of a counter gets through, later ones do not.
            List<List<String>> expected = new ArrayList<>();
            List<Set<Long>> seen = new ArrayList<>();
            int[] next = new int[PEERS];
            int total = 0;
            for (int i = 0; i < PEERS; i++) {
                expected.add(new ArrayList<>());
                seen.add(new HashSet<>());
                total += arrivals.get(i).size();
            }
            for (int tag = 0; tag < total; tag++) {
                int i = pickByRemaining(arrivals, next, total - tag, random);
                Datagram d = arrivals.get(i).get(next[i]++);
                boolean first = seen.get(i).add(Message.getLong(d.bytes, Message.TRANSPORT_COUNTER));
                expected.get(i).add("#" + tag + " " + (first ? d.content : "REPLAYED_COUNTER"));
                f.receive(i, d.bytes, tag);
                if (random.nextInt(48) == 0) {
                    f.idle();   // a UDP read loop's end
                }
                pauseSometimes(random);
            }
            f.awaitLeft(total);

            for (int i = 0; i < PEERS; i++) {
                assertInOrder(expected.get(i), f.received(i), "what b" + i + " made of a's datagrams");
            }
            assertEquals(List.of(), f.surprises());
        }
    }

    /** A transport message from a, and what its plaintext is: "keepalive" or "packet peer/seq". */
    private record Datagram(String content, byte[] bytes) {}

    /**
     * One peer's datagrams as they arrive: in counter order but for a swapped pair now and then, a copy straight
     * after its original, and an old one replayed (all well inside the replay window).
     */
    private static List<Datagram> arrivalOrder(List<Datagram> stream, Random random) {
        List<Datagram> out = new ArrayList<>();
        for (int j = 0; j < stream.size(); j++) {
            if (j + 1 < stream.size() && random.nextInt(20) == 0) {
                out.add(stream.get(j + 1));
                out.add(stream.get(j));
                j++;
            } else {
                out.add(stream.get(j));
            }
            if (random.nextInt(20) == 0) {
                out.add(out.get(out.size() - 1));
            }
            if (random.nextInt(30) == 0) {
                out.add(out.get(random.nextInt(out.size())));
            }
        }
        return out;
    }

    /** A peer with datagrams still to arrive, each as likely as its share of what remains: a uniform interleaving. */
    private static int pickByRemaining(List<List<Datagram>> arrivals, int[] next, int remaining, Random random) {
        int k = random.nextInt(remaining);
        for (int i = 0; ; i++) {
            k -= arrivals.get(i).size() - next[i];
            if (k < 0) {
                return i;
            }
        }
    }

    /** Half small packets, half near the MTU: their crypto takes from ~0.3 to ~2 µs, so they finish out of order. */
    private static int size(Random random) {
        return random.nextBoolean()
                ? PipelineFixture.MIN_SIZE + random.nextInt(132)
                : 1000 + random.nextInt(PipelineFixture.MTU - 1000 + 1);
    }

    /** Now and then the producer stops for a moment, so the queues also run empty and refill. */
    private static void pauseSometimes(Random random) {
        if (random.nextInt(64) == 0) {
            long end = System.nanoTime() + random.nextInt(20_000);
            while (System.nanoTime() - end < 0) {
                Thread.onSpinWait();
            }
        }
    }

    /** expected and actual are equal; if not, where they first differ, with a few entries either side. */
    private static void assertInOrder(List<String> expected, List<String> actual, String what) {
        int n = Math.min(expected.size(), actual.size());
        for (int k = 0; k < n; k++) {
            if (!expected.get(k).equals(actual.get(k))) {
                fail(what + ": first difference at #" + k + " of " + expected.size() + "\n  expected "
                        + around(expected, k) + "\n  but was  " + around(actual, k));
            }
        }
        assertEquals(expected.size(), actual.size(), what + ": how many; the rest were " + (expected.size() > n
                ? expected.subList(n, Math.min(n + 5, expected.size())) : actual.subList(n, Math.min(n + 5,
                actual.size()))));
    }

    private static List<String> around(List<String> list, int k) {
        return list.subList(Math.max(0, k - 3), Math.min(list.size(), k + 4));
    }
}
