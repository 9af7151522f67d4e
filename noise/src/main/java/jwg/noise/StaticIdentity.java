package jwg.noise;

/**
 * The device's static key pair, with the two keys derived from its public half that everyone uses to talk to it:
 * the mac1 key HASH(LABEL_MAC1 ‖ S_pub) and the cookie key HASH(LABEL_COOKIE ‖ S_pub) (§5.4.4, §5.4.7).
 * Immutable until {@link #wipe}; a new private key means a new identity.
 */
public final class StaticIdentity {
    private final Secret privateKey;
    private final Key publicKey;
    final byte[] mac1Key;
    final byte[] cookieKey;

    /** Takes a copy of the key, which the caller keeps and wipes on its own; {@link Dh} clamps as it reads it. */
    public StaticIdentity(Secret privateKey) {
        this.privateKey = privateKey.copy();
        this.publicKey = Key.of(Dh.publicKey(this.privateKey));
        this.mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, publicKey.raw());
        this.cookieKey = Blake2s.hash(Protocol.LABEL_COOKIE, publicKey.raw());
    }

    public Key publicKey() {
        return publicKey;
    }

    Secret privateKey() {
        return privateKey;
    }

    /** Zeroes the private key: the device has another identity now (a handshake still using this one fails). */
    public void wipe() {
        privateKey.wipe();
    }
}
