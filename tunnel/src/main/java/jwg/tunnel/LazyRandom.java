package jwg.tunnel;

import java.security.SecureRandom;
import java.security.SecureRandomSpi;

/**
 * A SecureRandom whose source, the platform's default SecureRandom, is made when first used rather than when the
 * device is: making it loads the security providers and opens the kernel's random devices, ~25 ms of a daemon's
 * start on 2 cores that nothing before the first handshake or key needs.
 *
 * <p>Thread-safety: any thread. The source is made once (double-checked); with no provider named, SecureRandom itself
 * serialises calls into this SPI, as it does for any SPI not declared thread-safe. Its users are the handshake and
 * UAPI threads, never a packet path.
 */
final class LazyRandom extends SecureRandomSpi {
    private volatile SecureRandom source;

    private LazyRandom() {}

    static SecureRandom create() {
        return new SecureRandom(new LazyRandom(), null) { };
    }

    private SecureRandom source() {
        SecureRandom s = source;
        if (s == null) {
            synchronized (this) {
                s = source;
                if (s == null) {
                    s = new SecureRandom();
                    source = s;
                }
            }
        }
        return s;
    }

    @Override
    protected void engineSetSeed(byte[] seed) {
        source().setSeed(seed);
    }

    @Override
    protected void engineNextBytes(byte[] bytes) {
        source().nextBytes(bytes);
    }

    @Override
    protected byte[] engineGenerateSeed(int numBytes) {
        return source().generateSeed(numBytes);
    }
}
