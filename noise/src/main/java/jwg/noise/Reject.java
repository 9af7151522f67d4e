package jwg.noise;

/** Why the core refused a message. WireGuard never answers the unauthenticated, so these are for logs and counters. */
public enum Reject {
    MALFORMED,
    BAD_MAC1,
    BAD_MAC2,
    NO_IDENTITY,
    UNKNOWN_PEER,
    UNKNOWN_INDEX,
    WRONG_STATE,
    ZERO_DH,
    DECRYPT_FAILED,
    REPLAYED_TIMESTAMP,
    INITIATION_FLOOD,
    REPLAYED_COUNTER,
    COUNTER_EXHAUSTED,
    NO_COOKIE_REQUESTED
}
