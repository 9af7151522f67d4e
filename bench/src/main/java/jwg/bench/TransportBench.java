package jwg.bench;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import jwg.noise.Aead;
import jwg.noise.ChaCha20Poly1305;
import jwg.noise.Drop;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
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
 * Transport data (type 4) cost per packet, one thread. Every op handles one packet of {@code size} plaintext bytes,
 * so throughput is ops/s and the plaintext rate is ops/s × size (MB/s = ops/s × size / 10^6); the wire carries 32
 * bytes more per packet (16 header, 16 tag). All sizes are multiples of 16, so there is no padding.
 *
 * <ul>
 *   <li>{@link #seal}: {@link Keypair#seal} in place into one reused buffer (header, counter, ChaCha20-Poly1305 with
 *       a fresh nonce). mtu is {@link Protocol#DEFAULT_MTU} for 64 and 1420 (what the device uses) and 0 (no cap)
 *       for 65536, which is bigger than any MTU: that size stands for a GSO-sized super-packet and shows the AEAD's
 *       asymptotic rate, not a packet WireGuard would send as one message.</li>
 *   <li>{@link #aeadOpen}: {@link Aead#open} of one fixed sealed message, counter 7, into a separate output buffer:
 *       the pure decryption cost. {@link Keypair#open} cannot be measured alone, since its replay window accepts each
 *       counter once and a re-sealed message would put seal into the figure.</li>
 *   <li>{@link #sealThenOpen}: the realistic path, a sender keypair seals and the matching receiver keypair
 *       {@link Keypair#open}s the same message in place (decryption, then the replay window accepting the next
 *       counter). Keypair.open ≈ sealThenOpen − seal, in time per op (1/ops).</li>
 * </ul>
 * Keypairs come from a real handshake in {@link #setUp} (their constructor is package-private).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
        "--add-exports", "java.base/sun.security.util.math=ALL-UNNAMED", "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=CompileThresholdScaling,jwg.noise.Poly1305Vector::blocks,0.002"})
public class TransportBench {
    @Param({"64", "1420", "65536"})
    public int size;

    private int mtu;
    private Keypair sender;
    private Keypair receiver;
    private byte[] sealBuf;
    private byte[] pairBuf;

    private SecretKey key;
    private byte[] sealed;
    private int sealedLen;
    private byte[] openOut;

    @Setup
    public void setUp() {
        ChaCha20Poly1305.warmUpVectorLanes(); // as the daemon does once traffic wants the lanes
        mtu = size <= Protocol.DEFAULT_MTU ? Protocol.DEFAULT_MTU : 0;
        int padded = Keypair.paddedLength(size, mtu);
        Fixtures.check(padded == size, "no padding at size " + size);
        int wire = Message.TRANSPORT_HEADER_LEN + padded + Aead.TAG_LEN;

        Fixtures.KeypairPair pair = Fixtures.handshake(0x5EA1L);
        sender = pair.initiator();
        receiver = pair.responder();
        Fixtures.checkInterop(sender, receiver);

        SecureRandom random = Fixtures.seededRandom(size);
        sealBuf = new byte[wire];
        pairBuf = new byte[wire];
        random.nextBytes(sealBuf);
        random.nextBytes(pairBuf);

        byte[] rawKey = new byte[32];
        random.nextBytes(rawKey);
        key = Aead.key(rawKey);
        byte[] plain = new byte[size];
        random.nextBytes(plain);
        sealedLen = size + Aead.TAG_LEN;
        sealed = new byte[sealedLen];
        Aead.seal(key, 7, plain, 0, size, sealed, 0, null);
        openOut = new byte[size];
        Fixtures.check(Aead.open(key, 7, sealed, 0, sealedLen, openOut, 0, null)
                && Arrays.equals(plain, openOut), "Aead round trip");
        Fixtures.check(sealThenOpen() == size, "sealThenOpen");
    }

    /** Keypair.seal of one packet in place; returns the wire length. */
    @Benchmark
    public int seal() {
        return sender.seal(sealBuf, 0, size, mtu);
    }

    /** Aead.open (ChaCha20-Poly1305 decrypt + tag check) of a fixed message, no replay window. */
    @Benchmark
    public boolean aeadOpen() {
        if (!Aead.open(key, 7, sealed, 0, sealedLen, openOut, 0, null)) {
            throw new IllegalStateException("open failed");
        }
        return true;
    }

    /** Keypair.seal then Keypair.open of the same packet in place (sender → receiver). */
    @Benchmark
    public int sealThenOpen() {
        int len = sender.seal(pairBuf, 0, size, mtu);
        int n = receiver.open(pairBuf, 0, len);
        if (n < 0) {
            throw new IllegalStateException("open: " + Drop.ofCode(n));
        }
        return n;
    }
}
