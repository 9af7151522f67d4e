package jwg.bench;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import jwg.noise.Aead;
import jwg.noise.ChaCha20Poly1305;
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
 * ChaCha20-Poly1305 alone, one thread, one message of {@code size} plaintext bytes per op, so MB/s = ops/s × size /
 * 10^6. {@code impl} picks the code:
 * <ul>
 *   <li>{@code jce}: SunJCE's cipher used the way Aead used it before ChaCha20Poly1305 (a thread's cipher, a fresh
 *       {@code init} with a new IvParameterSpec per message).</li>
 *   <li>{@code jwg}: {@link Aead#seal}/{@link Aead#open}, what Keypair runs: {@link ChaCha20Poly1305} from a
 *       ThreadLocal, with SunJCE's intrinsic ChaCha20 block and Poly1305 loop, which the fork's add-opens and add-exports flags
 *       (below) allow.</li>
 *   <li>{@code java}: {@link ChaCha20Poly1305#pureJava()}, what runs without the flags.</li>
 * </ul>
 * {@link #seal} works in place in one buffer with a new counter per op (SunJCE refuses to reuse a key and nonce for
 * encryption); {@link #open} opens one fixed message into a separate buffer. Run with {@code -prof gc} for B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
        "--add-exports", "java.base/sun.security.util.math=ALL-UNNAMED", "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=CompileThresholdScaling,jwg.noise.Poly1305Vector::blocks,0.002"})
public class AeadBench {
    @Param({"jce", "jwg", "java"})
    public String impl;

    @Param({"64", "1420", "8192", "65536"})
    public int size;

    private byte[] rawKey;
    private SecretKey key;
    private ChaCha20Poly1305 pureJava;
    private Cipher jceSealer;
    private Cipher jceOpener;
    private SecretKey jceKey;
    private final byte[] nonce = new byte[12];

    private byte[] sealBuf;
    private long counter;
    private byte[] sealed;
    private byte[] openOut;

    @Setup
    public void setUp() throws GeneralSecurityException {
        ChaCha20Poly1305.warmUpVectorLanes(); // as the daemon does once traffic wants the lanes
        SecureRandom random = Fixtures.seededRandom(size);
        rawKey = new byte[32];
        random.nextBytes(rawKey);
        key = Aead.key(rawKey);
        jceKey = new SecretKeySpec(rawKey, "ChaCha20-Poly1305");
        jceSealer = Cipher.getInstance("ChaCha20-Poly1305");
        jceOpener = Cipher.getInstance("ChaCha20-Poly1305");
        pureJava = ChaCha20Poly1305.pureJava();
        ChaCha20Poly1305 probe = new ChaCha20Poly1305();
        Fixtures.check(!impl.equals("jwg") || probe.usesJdkBlock(),
                "the fork lacks the add-opens/add-exports flags: " + ChaCha20Poly1305.implementation());

        sealBuf = new byte[size + Aead.TAG_LEN];
        random.nextBytes(sealBuf);
        byte[] plain = new byte[size];
        random.nextBytes(plain);
        sealed = new byte[size + Aead.TAG_LEN];
        Aead.seal(key, 7, plain, 0, size, sealed, 0, null);
        openOut = new byte[size];
        Fixtures.check(open() && Arrays.equals(plain, openOut), impl + " opens what Aead sealed");
        counter = 1000;
    }

    @Benchmark
    public int seal() throws GeneralSecurityException {
        long n = counter++;
        switch (impl) {
            case "jce" -> jce(jceSealer, Cipher.ENCRYPT_MODE, n, sealBuf, size, sealBuf);
            case "jwg" -> Aead.seal(key, n, sealBuf, 0, size, sealBuf, 0, null);
            default -> pureJava.seal(key, n, sealBuf, 0, size, sealBuf, 0, null);
        }
        return sealBuf[size];
    }

    @Benchmark
    public boolean open() {
        boolean ok = switch (impl) {
            case "jce" -> jceOpen();
            case "jwg" -> Aead.open(key, 7, sealed, 0, sealed.length, openOut, 0, null);
            default -> pureJava.open(key, 7, sealed, 0, sealed.length, openOut, 0, null);
        };
        if (!ok) {
            throw new IllegalStateException("open failed");
        }
        return true;
    }

    private boolean jceOpen() {
        try {
            jce(jceOpener, Cipher.DECRYPT_MODE, 7, sealed, sealed.length, openOut);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** What Aead did per message before: init with a fresh IvParameterSpec, then doFinal. */
    private void jce(Cipher c, int mode, long n, byte[] in, int len, byte[] out) throws GeneralSecurityException {
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (n >>> (8 * i));
        }
        c.init(mode, jceKey, new IvParameterSpec(nonce));
        c.doFinal(in, 0, len, out, 0);
    }
}
