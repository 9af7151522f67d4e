package jwg.noise;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.security.Key;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Poly1305's block loop run by SunJCE's {@code Poly1305.processMultipleBlocks}, which HotSpot replaces with an
 * AVX-512 IFMA stub, on the accumulator and r limbs of a SunJCE Poly1305 object this instance owns.
 *
 * <p>Why: our Java loop ({@link Poly1305}) does 25 long multiplies per 16-byte block, ~1.2 GB/s at 1420 B here
 * (2.6 GHz), which with ChaCha20 left the AEAD at ~0.8 GB/s, under the 1.2 GB/s it must reach; the JDK's loop ran the
 * same 1420 B at ~2.5-5 GB/s in the same (loaded) probe, and the AEAD then ~1.2-1.7 GB/s.
 *
 * <p>Safety: the method's Java body (what the interpreter and C1 run, and C2 where there is no stub) ignores its two
 * array arguments and works on the object's fields {@code a} and {@code r}; the stub works on the arrays. We pass the
 * very arrays those fields hold, obtained once with {@code getLimbs()}, so both forms compute the same thing. Re-keying
 * writes r's limbs in place and zeroes the accumulator, so no JDK object is made per message. Needs
 * {@code --add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED} (the class and method) and
 * {@code --add-exports java.base/sun.security.util.math=ALL-UNNAMED} ({@code getLimbs}); without either,
 * {@link #AVAILABLE} is false and {@link Poly1305} runs its own loop. Not thread-safe.
 */
final class JdkPoly1305 {
    private static final MethodHandle NEW;
    private static final MethodHandle INIT;
    private static final MethodHandle BLOCKS;
    private static final MethodHandle FIELD_A;
    private static final MethodHandle FIELD_R;
    private static final MethodHandle LIMBS;
    static final boolean AVAILABLE;
    /**
     * Whether HotSpot is likely to replace the JDK's loop with its stub here, which it does only on CPUs with
     * AVX-512 IFMA (with VL and BW) or AVX-IFMA. Elsewhere the JDK's loop runs as plain Java over limb arrays, and
     * is much slower than ours: on an AVX2-only EPYC, the whole AEAD sealed 1420 B at ~0.33 GB/s with it against
     * ~0.75 GB/s with our loop (JMH AeadBench); the stub ran it at ~1.8 GB/s on a CPU that has it. HotSpot does not
     * tell a program whether it uses an intrinsic (the flag is diagnostic, and hidden from the management API), so
     * this reads the CPU's flags as the kernel reports them. bin/jwg makes the same test to decide whether the daemon
     * gets the Vector API at all (the lanes being of no use where this is true).
     */
    static final boolean INTRINSIC_LIKELY = cpuHasIfma();

    static {
        MethodHandle make = null, init = null, blocks = null, a = null, r = null, limbs = null;
        try {
            Class<?> c = Class.forName("com.sun.crypto.provider.Poly1305");
            Class<?> element = Class.forName("sun.security.util.math.IntegerModuloP");
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
            make = l.findConstructor(c, MethodType.methodType(void.class, boolean.class))
                    .asType(MethodType.methodType(Object.class, boolean.class));
            init = l.findVirtual(c, "engineInit", MethodType.methodType(void.class, Key.class,
                    AlgorithmParameterSpec.class)).asType(MethodType.methodType(void.class, Object.class, Key.class,
                    AlgorithmParameterSpec.class));
            blocks = l.findVirtual(c, "processMultipleBlocks", MethodType.methodType(void.class, byte[].class,
                    int.class, int.class, long[].class, long[].class)).asType(MethodType.methodType(void.class,
                    Object.class, byte[].class, int.class, int.class, long[].class, long[].class));
            a = l.findGetter(c, "a", Class.forName("sun.security.util.math.MutableIntegerModuloP"))
                    .asType(MethodType.methodType(Object.class, Object.class));
            r = l.findGetter(c, "r", element).asType(MethodType.methodType(Object.class, Object.class));
            limbs = MethodHandles.lookup().findVirtual(element, "getLimbs", MethodType.methodType(long[].class))
                    .asType(MethodType.methodType(long[].class, Object.class));
        } catch (ReflectiveOperationException | RuntimeException notOpenedOrExportedOrGone) {
            make = null;
        }
        NEW = make;
        INIT = init;
        BLOCKS = blocks;
        FIELD_A = a;
        FIELD_R = r;
        LIMBS = limbs;
        AVAILABLE = make != null && agrees();
    }

    private final Object mac;
    private final long[] acc;
    private final long[] r;

    /** Call only when {@link #AVAILABLE}. */
    JdkPoly1305() {
        try {
            mac = NEW.invokeExact(false);
            byte[] someKey = new byte[32];
            someKey[0] = 1;
            INIT.invokeExact(mac, (Key) new SecretKeySpec(someKey, "Poly1305"), (AlgorithmParameterSpec) null);
            acc = (long[]) LIMBS.invokeExact(FIELD_A.invokeExact(mac));
            r = (long[]) LIMBS.invokeExact(FIELD_R.invokeExact(mac));
        } catch (Throwable t) {
            throw new IllegalStateException("SunJCE Poly1305 did not initialise", t);
        }
        if (acc.length != 5 || r.length != 5) {
            throw new IllegalStateException("SunJCE Poly1305 limbs changed shape");
        }
    }

    /** The accumulator: five 26-bit limbs, each possibly somewhat over 26 bits. */
    long[] acc() {
        return acc;
    }

    /** r as five 26-bit limbs; the caller writes the clamped r of each message here. */
    long[] r() {
        return r;
    }

    /** acc = (acc + block) · r mod p for each 16-byte block of m[off, off+len); the caller checked the bounds. */
    void blocks(byte[] m, int off, int len) {
        try {
            BLOCKS.invokeExact(mac, m, off, len, acc, r);
        } catch (Throwable t) {
            throw new IllegalStateException("SunJCE Poly1305 failed", t);
        }
    }

    private static boolean cpuHasIfma() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    java.util.Set<String> flags = java.util.Set.of(line.substring(line.indexOf(':') + 1).strip()
                            .split("\\s+"));
                    return flags.contains("avx512ifma") && flags.contains("avx512vl") && flags.contains("avx512bw")
                            || flags.contains("avx_ifma");
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // unknown: assume no stub, where our loop is the faster one
        }
        return false;
    }

    /** Whether the JDK's loop gives our tags on a few messages that make the accumulator wrap around p. */
    private static boolean agrees() {
        try {
            Poly1305 theirs = new Poly1305(new JdkPoly1305());
            Poly1305 ours = new Poly1305((JdkPoly1305) null);
            byte[] key = new byte[32];
            byte[] msg = new byte[16 * 40];
            java.util.Arrays.fill(key, (byte) 0xff);
            java.util.Arrays.fill(msg, (byte) 0xff);
            return theirs.sameTag(ours, key, msg) && theirs.sameTag(ours, msg, key);
        } catch (RuntimeException e) {
            return false;
        }
    }
}
