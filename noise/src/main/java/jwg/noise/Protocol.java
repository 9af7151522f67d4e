package jwg.noise;

import java.nio.charset.StandardCharsets;

/** The whitepaper's constants (§5.4, §6), under the whitepaper's names. */
public final class Protocol {
    private Protocol() {}

    public static final byte[] CONSTRUCTION = ascii("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    public static final byte[] IDENTIFIER = ascii("WireGuard v1 zx2c4 Jason@zx2c4.com");
    public static final byte[] LABEL_MAC1 = ascii("mac1----");
    public static final byte[] LABEL_COOKIE = ascii("cookie--");

    /** 2^60: the initiator starts a new handshake once a keypair has sent this many messages (§6.1). */
    public static final long REKEY_AFTER_MESSAGES = 1L << 60;
    /** 2^64 − 2^13 − 1, an unsigned value: no message is sent or accepted with a counter at or past it (§6.1). */
    public static final long REJECT_AFTER_MESSAGES = -(1L << 13) - 1;

    public static final long REKEY_AFTER_TIME_NANOS = 120_000_000_000L;
    public static final long REJECT_AFTER_TIME_NANOS = 180_000_000_000L;
    public static final long REKEY_ATTEMPT_TIME_NANOS = 90_000_000_000L;
    public static final long REKEY_TIMEOUT_NANOS = 5_000_000_000L;
    /** Up to this much random jitter is added to each handshake retransmission (§6.1). */
    public static final long REKEY_TIMEOUT_JITTER_MAX_NANOS = 333_000_000L;
    public static final long KEEPALIVE_TIMEOUT_NANOS = 10_000_000_000L;
    /** The cookie secret's lifetime, and the age past which a received cookie is no longer used for mac2 (§5.4.7). */
    public static final long COOKIE_REFRESH_TIME_NANOS = 120_000_000_000L;
    /** Kernel and wireguard-go: a peer's initiations are consumed at most once per 20 ms (flood protection). */
    public static final long INITIATION_MIN_INTERVAL_NANOS = 20_000_000L;

    public static final int DEFAULT_PORT = 51820;
    /** 1500 − 80: IPv6 header 40, UDP 8, transport header 16, tag 16. */
    public static final int DEFAULT_MTU = 1420;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
