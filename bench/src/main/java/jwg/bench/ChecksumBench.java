package jwg.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import jwg.tun.Checksum;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Checksum#add} over one segment's TCP header and payload, as the segmenter sums each segment it cuts from a
 * TSO super-packet and the coalescer verifies each packet before merging it: the per-packet cost that is neither
 * AEAD nor I/O. Ops/s times size is bytes/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChecksumBench {
    /** 1400: a TCP segment in a 1420-byte tunnel MTU, less its IPv4 header; 40: a pure ACK. */
    @Param({"1400", "40"})
    int size;

    private byte[] data;

    @Setup
    public void setUp() {
        data = new byte[size + 64];
        new Random(1).nextBytes(data);
    }

    @Benchmark
    public int segment() {
        // An even offset, as a TCP header's is in a packet buffer.
        return Checksum.finish(Checksum.add(0x1234, data, 34, size));
    }
}
