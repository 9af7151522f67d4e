package jwg.noise;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.Function;

/**
 * One peer's handshake state (§5.4.2-§5.4.5): the Noise IKpsk2 exchange framed as WireGuard messages 1 and 2, the
 * responder's replay and flood checks, and the derivation of a transport {@link Keypair}.
 *
 * <p>Pure: no clock, no randomness of its own (ephemeral keys, indices and time are passed in), no I/O. mac1 and mac2
 * are not its business: the sender adds them with a {@link CookieGenerator} after creating a message, the receiver
 * checks them with a {@link CookieChecker} before consuming one.
 *
 * <p>Thread-safe: every step computes on a private copy of the chaining state and commits it under this object's
 * lock, so a step that fails leaves the handshake as it was.
 */
public final class Handshake {
    /**
     * Where the exchange is. ANSWERED: our initiation was answered and its keypair derived, and a further answer to
     * it can still be recognised ({@link #furtherAnswer}).
     */
    public enum State { ZEROED, INITIATION_CREATED, INITIATION_CONSUMED, RESPONSE_CREATED, RESPONSE_CONSUMED, ANSWERED }

    /** Messages read as further answers to one initiation at most, authentic or not: each costs two DH. */
    static final int MAX_FURTHER_ATTEMPTS = 4;

    private static final byte[] EMPTY = new byte[0];

    private final Key remoteStatic;
    private final byte[] prologue;
    private StaticIdentity local;
    private final Secret presharedKey = Secret.zero();
    /**
     * DH(S_priv_i, S_pub_r), computed by the first handshake that needs it ({@link #staticStatic()}) or ahead of it
     * ({@link #computeStaticStatic()}), not when the peer is configured: a set of 10,000 peers spent most of its time
     * on them.
     */
    private final byte[] staticStatic = new byte[32];
    private boolean staticStaticComputed;
    private boolean staticStaticValid;

    private State state = State.ZEROED;
    private final SymmetricState chain = new SymmetricState();
    private final byte[] localEphemeral = new byte[32];
    private final byte[] remoteEphemeral = new byte[32];
    private int localIndex;
    private int remoteIndex;
    /**
     * From the first answer to our initiation until {@link #closeAnswers}: C and H as the initiation left them, so
     * that a further answer to it can be read (the ephemeral key stays in {@link #localEphemeral}); the responder
     * ephemeral of the answer taken, which a further answer must not repeat; the attempts made.
     */
    private final SymmetricState sent = new SymmetricState();
    private final byte[] answeredEphemeral = new byte[32];
    private int furtherAttempts;
    private final byte[] lastTimestamp = new byte[Tai64n.LEN];
    private long lastInitiationConsumedNanos;
    private boolean anyInitiationConsumed;

    public Handshake(StaticIdentity local, Key remoteStatic) {
        this(local, remoteStatic, Protocol.IDENTIFIER);
    }

    Handshake(StaticIdentity local, Key remoteStatic, byte[] prologue) {
        this.remoteStatic = remoteStatic;
        this.prologue = prologue;
        setLocalIdentity(local);
    }

    public Key remoteStatic() {
        return remoteStatic;
    }

    public synchronized State state() {
        return state;
    }

    /**
     * Changes the device's identity (or removes it, with null): forgets DH(S_priv_i, S_pub_r), made with the old key,
     * and abandons any handshake in flight, which was bound to it.
     */
    public synchronized void setLocalIdentity(StaticIdentity identity) {
        this.local = identity;
        Arrays.fill(staticStatic, (byte) 0);
        staticStaticComputed = false;
        staticStaticValid = false;
        clear();
    }

    /** Computes DH(S_priv_i, S_pub_r) now if it is not yet: a device does it for new peers off the caller's thread. */
    public synchronized void computeStaticStatic() {
        staticStatic();
    }

    /** Whether DH(S_priv_i, S_pub_r) is in {@link #staticStatic} (false: no identity, or a low-order public key). */
    private boolean staticStatic() {
        if (!staticStaticComputed) {
            staticStaticValid = local != null && Dh.sharedSecret(local.privateKey(), remoteStatic.raw(), staticStatic);
            staticStaticComputed = true;
        }
        return staticStaticValid;
    }

    /** Q; the zero key means none. Copies it: the caller wipes its own. */
    public synchronized void setPresharedKey(Secret psk) {
        presharedKey.copyFrom(psk);
    }

    /** Q in the UAPI's form, for a get. */
    public synchronized void appendPresharedKeyHex(Appendable out) throws IOException {
        presharedKey.appendHex(out);
    }

    /**
     * False when no handshake with this peer is possible: no local key, or its public key is a low-order point
     * (DH(S_priv_i, S_pub_r) is zero).
     */
    public synchronized boolean canHandshake() {
        return local != null && staticStatic();
    }

    /** Creates message 1 into out[off, off+148) with random ephemeral and the given wall-clock time. */
    public boolean createInitiation(byte[] out, int off, int senderIndex, SecureRandom random, long epochNanos) {
        byte[] ePriv = Dh.generatePrivate(random);
        try {
            return createInitiation(out, off, senderIndex, ePriv, Tai64n.ofEpochNanos(epochNanos));
        } finally {
            Arrays.fill(ePriv, (byte) 0);
        }
    }

    /**
     * Creates message 1 (§5.4.2) with mac1 and mac2 left zero. Returns false, writing nothing useful, when
     * {@link #canHandshake()} is false.
     */
    public synchronized boolean createInitiation(byte[] out, int off, int senderIndex, byte[] ephemeralPrivate,
                                                 byte[] timestamp) {
        if (!canHandshake()) {
            return false;
        }
        SymmetricState st = new SymmetricState();
        st.initialize(prologue);
        st.mixHash(remoteStatic.raw(), 0, 32);
        Message.writeHeader(out, off, Message.INITIATION);
        Message.putInt(out, off + Message.INITIATION_SENDER, senderIndex);
        boolean ok = NoiseIK.writeInitiation(st, ephemeralPrivate, remoteStatic.raw(), staticStatic,
                local.publicKey().raw(), timestamp, out, off + Message.INITIATION_EPHEMERAL);
        Arrays.fill(out, off + Message.INITIATION_MAC1, off + Message.INITIATION_LEN, (byte) 0);
        if (!ok) {
            st.zero();
            return false;
        }
        forgetAnswers();
        chain.copyFrom(st);
        st.zero();
        System.arraycopy(ephemeralPrivate, 0, localEphemeral, 0, 32);
        localIndex = senderIndex;
        state = State.INITIATION_CREATED;
        return true;
    }

    /**
     * Consumes message 1 (§5.4.2) as the responder. The caller has classified the message and checked mac1 (and mac2
     * when under load). peers maps the initiator's decrypted static key to its handshake, or null if unknown.
     * Accepts only a timestamp later than the last accepted from that peer, and not within 20 ms of the previous one.
     */
    public static Result<Handshake> consumeInitiation(StaticIdentity local, byte[] msg, int off,
                                                      Function<Key, Handshake> peers, long nowNanos) {
        if (local == null) {
            return Result.dropped(Drop.NO_IDENTITY);
        }
        SymmetricState st = new SymmetricState();
        st.initialize(Protocol.IDENTIFIER);
        return consumeInitiation(local, st, msg, off, peers, nowNanos);
    }

    private static Result<Handshake> consumeInitiation(StaticIdentity local, SymmetricState st, byte[] msg, int off,
                                                       Function<Key, Handshake> peers, long nowNanos) {
        st.mixHash(local.publicKey().raw(), 0, 32);
        byte[] ePub = new byte[32];
        byte[] sPub = new byte[32];
        int body = off + Message.INITIATION_EPHEMERAL;
        if (!NoiseIK.readInitiationStatic(st, local.privateKey(), msg, body, ePub, sPub)) {
            st.zero();
            return Result.dropped(Drop.DECRYPT_FAILED);
        }
        Handshake peer = peers.apply(Key.of(sPub));
        if (peer == null) {
            st.zero();
            return Result.dropped(Drop.UNKNOWN_PEER);
        }
        return peer.finishInitiation(local, st, msg, off, ePub, nowNanos);
    }

    private synchronized Result<Handshake> finishInitiation(StaticIdentity identity, SymmetricState st, byte[] msg,
                                                            int off, byte[] ePub, long nowNanos) {
        try {
            if (identity != local) {
                return Result.dropped(Drop.NO_IDENTITY);
            }
            if (!staticStatic()) {
                return Result.dropped(Drop.ZERO_DH);
            }
            byte[] timestamp = new byte[Tai64n.LEN];
            if (!NoiseIK.readInitiationPayload(st, staticStatic, msg, off + Message.INITIATION_EPHEMERAL, timestamp)) {
                return Result.dropped(Drop.DECRYPT_FAILED);
            }
            if (!Tai64n.after(timestamp, lastTimestamp)) {
                return Result.dropped(Drop.REPLAYED_TIMESTAMP);
            }
            if (anyInitiationConsumed && nowNanos - lastInitiationConsumedNanos < Protocol.INITIATION_MIN_INTERVAL_NANOS) {
                return Result.dropped(Drop.INITIATION_FLOOD);
            }
            // The peer initiates: an exchange of ours, in flight or answered, is over, and its secrets go.
            forgetAnswers();
            Arrays.fill(localEphemeral, (byte) 0);
            chain.copyFrom(st);
            System.arraycopy(ePub, 0, remoteEphemeral, 0, 32);
            System.arraycopy(timestamp, 0, lastTimestamp, 0, Tai64n.LEN);
            remoteIndex = Message.getInt(msg, off + Message.INITIATION_SENDER);
            lastInitiationConsumedNanos = nowNanos;
            anyInitiationConsumed = true;
            state = State.INITIATION_CONSUMED;
            return Result.ok(this);
        } finally {
            st.zero();
        }
    }

    public boolean createResponse(byte[] out, int off, int senderIndex, SecureRandom random) {
        byte[] ePriv = Dh.generatePrivate(random);
        try {
            return createResponse(out, off, senderIndex, ePriv);
        } finally {
            Arrays.fill(ePriv, (byte) 0);
        }
    }

    /**
     * Creates message 2 (§5.4.3) into out[off, off+92), mac1 and mac2 left zero. Only after an initiation was
     * consumed; false otherwise or when a DH is zero.
     */
    public synchronized boolean createResponse(byte[] out, int off, int senderIndex, byte[] ephemeralPrivate) {
        if (state != State.INITIATION_CONSUMED) {
            return false;
        }
        SymmetricState st = new SymmetricState();
        st.copyFrom(chain);
        Message.writeHeader(out, off, Message.RESPONSE);
        Message.putInt(out, off + Message.RESPONSE_SENDER, senderIndex);
        Message.putInt(out, off + Message.RESPONSE_RECEIVER, remoteIndex);
        boolean ok = NoiseIK.writeResponse(st, ephemeralPrivate, remoteEphemeral, remoteStatic.raw(), presharedKey,
                EMPTY, out, off + Message.RESPONSE_EPHEMERAL);
        Arrays.fill(out, off + Message.RESPONSE_MAC1, off + Message.RESPONSE_LEN, (byte) 0);
        if (!ok) {
            st.zero();
            return false;
        }
        chain.copyFrom(st);
        st.zero();
        localIndex = senderIndex;
        state = State.RESPONSE_CREATED;
        return true;
    }

    /**
     * Consumes message 2 (§5.4.3) as the initiator. The caller found this handshake by the message's receiver index
     * and checked mac1.
     */
    public synchronized Result<Handshake> consumeResponse(byte[] msg, int off) {
        if (state != State.INITIATION_CREATED || local == null) {
            return Result.dropped(Drop.WRONG_STATE);
        }
        if (Message.getInt(msg, off + Message.RESPONSE_RECEIVER) != localIndex) {
            return Result.dropped(Drop.UNKNOWN_INDEX);
        }
        SymmetricState st = new SymmetricState();
        st.copyFrom(chain);
        try {
            if (!NoiseIK.readResponse(st, localEphemeral, local.privateKey(), presharedKey, msg,
                    off + Message.RESPONSE_EPHEMERAL, EMPTY)) {
                return Result.dropped(Drop.DECRYPT_FAILED);
            }
            sent.copyFrom(chain);
            System.arraycopy(msg, off + Message.RESPONSE_EPHEMERAL, answeredEphemeral, 0, 32);
            furtherAttempts = 0;
            chain.copyFrom(st);
            remoteIndex = Message.getInt(msg, off + Message.RESPONSE_SENDER);
            state = State.RESPONSE_CONSUMED;
            return Result.ok(this);
        } finally {
            st.zero();
        }
    }

    /**
     * Whether msg is an authentic answer, other than the one taken, to the initiation whose answer made our last
     * keypair (state ANSWERED): a responder that consumed two copies of the initiation (roaming sends one to every
     * candidate address) answered both. The kernel and wireguard-go check an initiation's timestamp and record it in
     * two separate steps, so copies that reach two of their handshake workers at once can both pass; the responder
     * then keeps the session of the answer it made last, which need not be the one we took. Nothing is derived: the
     * caller settles it with a new handshake. The answer must carry a responder ephemeral other than the taken
     * one's: a copy of that answer (a duplicate on the wire, a replay) is no second answer. After an authentic one,
     * or {@link #MAX_FURTHER_ATTEMPTS} messages read, answers close ({@link #closeAnswers}).
     */
    public synchronized Result<Handshake> furtherAnswer(byte[] msg, int off) {
        if (state != State.ANSWERED || local == null) {
            return Result.dropped(Drop.WRONG_STATE);
        }
        if (Message.getInt(msg, off + Message.RESPONSE_RECEIVER) != localIndex) {
            return Result.dropped(Drop.UNKNOWN_INDEX);
        }
        int ephemeral = off + Message.RESPONSE_EPHEMERAL;
        if (Arrays.equals(answeredEphemeral, 0, 32, msg, ephemeral, ephemeral + 32)) {
            return Result.dropped(Drop.WRONG_STATE);
        }
        SymmetricState st = new SymmetricState();
        st.copyFrom(sent);
        try {
            boolean authentic = NoiseIK.readResponse(st, localEphemeral, local.privateKey(), presharedKey, msg,
                    ephemeral, EMPTY);
            if (authentic || ++furtherAttempts == MAX_FURTHER_ATTEMPTS) {
                clear();
            }
            return authentic ? Result.ok(this) : Result.dropped(Drop.DECRYPT_FAILED);
        } finally {
            st.zero();
        }
    }

    /**
     * No further answer to our initiation will be recognised: its ephemeral key and C and H as sent are erased.
     * Nothing happens in any state but ANSWERED.
     */
    public synchronized void closeAnswers() {
        if (state == State.ANSWERED) {
            clear();
        }
    }

    private void forgetAnswers() {
        sent.zero();
        Arrays.fill(answeredEphemeral, (byte) 0);
        furtherAttempts = 0;
    }

    /**
     * Derives the transport keypair (§5.4.5) once the initiator has consumed a response or the responder has created
     * one, then erases C and H; the initiator keeps its ephemeral key and the initiation's C and H as sent, to
     * recognise a further answer (state ANSWERED, until {@link #closeAnswers}). Null in any other state.
     */
    public synchronized Keypair deriveKeypair(long nowNanos) {
        boolean initiator;
        if (state == State.RESPONSE_CONSUMED) {
            initiator = true;
        } else if (state == State.RESPONSE_CREATED) {
            initiator = false;
        } else {
            return null;
        }
        byte[] first = new byte[32];
        byte[] second = new byte[32];
        NoiseIK.split(chain, first, second);
        Keypair keypair = initiator
                ? new Keypair(first, second, true, nowNanos, localIndex, remoteIndex)
                : new Keypair(second, first, false, nowNanos, localIndex, remoteIndex);
        Arrays.fill(first, (byte) 0);
        Arrays.fill(second, (byte) 0);
        if (initiator) {
            chain.zero();
            Arrays.fill(remoteEphemeral, (byte) 0);
            state = State.ANSWERED;
        } else {
            clear();
        }
        return keypair;
    }

    /** The index this side chose for the handshake in flight (the sender index of its last message). */
    public synchronized int localIndex() {
        return localIndex;
    }

    /** The handshake hash H so far; tests compare it with published vectors. */
    synchronized byte[] hash() {
        return chain.hash.clone();
    }

    /** The peer is gone: erases everything secret this state holds, Q and DH(S_priv_i, S_pub_r) included. */
    public synchronized void destroy() {
        clear();
        presharedKey.wipe();
        Arrays.fill(staticStatic, (byte) 0);
        staticStaticComputed = true;
        staticStaticValid = false;
    }

    /** Abandons the handshake in flight and erases its secrets; the replay state (last timestamp) is kept. */
    public synchronized void clear() {
        forgetAnswers();
        chain.zero();
        Arrays.fill(localEphemeral, (byte) 0);
        Arrays.fill(remoteEphemeral, (byte) 0);
        state = State.ZEROED;
    }
}
