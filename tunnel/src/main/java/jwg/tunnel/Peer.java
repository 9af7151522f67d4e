package jwg.tunnel;

import static jwg.noise.Protocol.KEEPALIVE_TIMEOUT_NANOS;
import static jwg.noise.Protocol.REJECT_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_AFTER_MESSAGES;
import static jwg.noise.Protocol.REKEY_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_ATTEMPT_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_NANOS;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jwg.noise.CookieGenerator;
import jwg.noise.Drop;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Result;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;

/**
 * One peer's protocol state, with no I/O, no threads and no clock of its own: its handshake and cookies, its
 * previous/current/next keypairs, the packets staged while it has no session, its timers (as deadlines), its
 * counters and endpoint, and the receiver indices it registered. Inputs are method calls carrying the time; outputs
 * go to its {@link Driver}: packets to seal and send in order, handshake messages to send, when to be woken, events.
 *
 * <p>Concurrency: every input takes this peer's lock, so the peer is a sequential state machine whichever thread
 * calls it. Under that lock a transport packet gets its counter and its place in {@link #outbound} together, which
 * is what keeps sending order equal to counter order, and staged packets always get counters before newer ones.
 * The lock is per peer: no packet of another peer ever waits for it. The handshake's DH work runs under it too
 * (once per handshake, ~0.2 ms): simpler than any scheme that lets a half-finished handshake be seen.
 */
final class Peer {
    /** Packets held while a handshake is under way (wireguard-go holds as many); the oldest go first. */
    static final int MAX_STAGED = 128;
    /** Packets of one peer in the pipeline at once, per direction. */
    static final int IN_FLIGHT = 4096;
    /** Retransmissions before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (§6.4). */
    static final int MAX_TIMER_HANDSHAKES = (int) (REKEY_ATTEMPT_TIME_NANOS / REKEY_TIMEOUT_NANOS);

    /** A health check's addresses may not move the endpoint for this long after it (roaming waits 2 s for it). */
    static final long CHECK_PIN_NANOS = 2_000_000_000L;
    /**
     * ... nor for this long after its response: about what the peer takes to see our next message come from the
     * current path and answer there again, with room for a slow path.
     */
    static final long CHECK_PIN_AFTER_RESPONSE_NANOS = 1_000_000_000L;
    /** How long the least round trip sample stands before a larger one may replace it. */
    static final long RTT_WINDOW_NANOS = 30_000_000_000L;
    /** Why an endpoint changed, as hooks and metrics get it. */
    static final String FROM_A_NEW_ADDRESS = "authenticated packet from a new address";
    static final String SET_BY_WG = "set by wg";

    final Key publicKey;
    /** Sealed in parallel, sent in this order. */
    final OrderedQueue outbound = new OrderedQueue(IN_FLIGHT);
    /** Opened in parallel, checked against the replay window and delivered in this order. */
    final OrderedQueue inbound = new OrderedQueue(IN_FLIGHT);

    private final Driver driver;
    private final Handshake handshake;
    private final CookieGenerator cookies;
    private final Keypairs keypairs;
    private final Timers timers;
    private final ArrayDeque<byte[]> staged = new ArrayDeque<>();

    // Read without the lock (UAPI, roaming), written under it.
    private volatile InetSocketAddress endpoint;
    private volatile int persistentKeepalive;
    private volatile long lastHandshakeEpochNanos;
    private volatile long txBytes;
    private volatile long rxBytes;
    private volatile long lastDataSentNanos;
    /** The first data sent since anything authenticated came back (0: none owed), for roaming's suspicion. */
    private volatile long firstUnansweredDataNanos;
    /**
     * The path's round trip for roaming: the least sample of the last {@link #RTT_WINDOW_NANOS} or so (a sample older
     * than that gives way to the next one), 0 while none; reset when the endpoint moves. Under the lock.
     */
    private volatile long pathRttNanos;
    private long pathRttSampledNanos;
    private volatile boolean removed;

    /** A handshake completed since the keys were last erased: the hook's session_up was sent, session_down owed. */
    private boolean sessionUp;
    /** An initiation or a response went out (at lastHandshakeSentNanos): the REKEY_TIMEOUT rate limit applies. */
    private boolean anyHandshakeSent;
    private long lastHandshakeSentNanos;
    private boolean initiationQueued;
    private int handshakeAttempts;
    /** The receive side asked for a handshake because the keypair is about to expire; once per session. */
    private boolean lastMinuteHandshakeSent;
    private Session handshakeSession;
    private int handshakeIndex;
    /**
     * A further answer to our last initiation may still come ({@link #furtherAnswer}): from its first answer until
     * the peer sends on that session, another handshake begins, or {@link Timers#ANSWER_WINDOW_NANOS}. Read by the
     * handshake workers without the lock, to drop any other response that names a session before taking it.
     */
    private volatile boolean answersOpen;
    /** A further answer came: the next initiation goes despite the REKEY_TIMEOUT rate limit. */
    private boolean settling;
    /** When the initiation in flight went to each address, for the RTT that roaming records. */
    private final Map<InetSocketAddress, Long> initiationSentAt = new HashMap<>();
    private long initiations;
    private long handshakesCompleted;
    private long handshakesCompletedAtInitiation;
    /**
     * Roaming's health check (see {@link #check}): its targets, which may not move the endpoint until
     * {@link #checkPinnedUntilNanos}; empty when there is none.
     */
    private List<InetSocketAddress> checkTargets = List.of();
    private long checkPinnedUntilNanos;
    private long wakeAt = Timers.OFF;

    Peer(Key publicKey, Driver driver) {
        this.publicKey = publicKey;
        this.driver = driver;
        this.handshake = new Handshake(driver.identity(), publicKey);
        this.cookies = new CookieGenerator(publicKey);
        this.keypairs = new Keypairs(this::release);
        // The jitter needs no secrecy, and the device's SecureRandom cost a read of /dev/urandom and an allocation
        // per data packet sent after one received (the timer re-arms each time; seen in JFR on a receiver's ACKs).
        this.timers = new Timers(new SplittableRandom(driver.random().nextLong()));
    }

    // ---- outbound ----

    /**
     * IP packets from the TUN device for this peer, ps[0, n) in order, each at p.buf[16, 16+p.length) with room for
     * sealing after it: they go to the pipeline with the next counters, or are staged until a handshake gives this
     * peer a session. A read's segments come as one batch: one lock, one look at the session, one update of the
     * timers.
     */
    synchronized void send(Packet[] ps, int n, long now) {
        if (removed) {
            for (int i = 0; i < n; i++) {
                driver.dropped(ps[i], Drop.PEER_GONE);
            }
            return;
        }
        Keypair kp = usableKeypair(now);
        if (kp != null) {
            flushStaged(kp, now);
        }
        boolean sent = false;
        boolean stalled = false;
        for (int i = 0; i < n; i++) {
            Packet p = ps[i];
            if (kp != null && staged.isEmpty() && transmit(p, kp)) {
                sent = true;
            } else {
                // No session, no counter left, or flushing stopped short (no buffer, or no counter): p waits, and
                // never takes a counter ahead of the packets staged before it.
                stalled |= kp == null || staged.isEmpty();
                stage(p);
            }
        }
        if (sent) {
            sent(true, now);
            keepKeyFreshSending(kp, now);
        }
        if (stalled) {
            requestHandshake(false, now);
        }
        rearm();
    }

    /** A keepalive now (persistent keepalive switched on), or a handshake if there is no session to send it on. */
    synchronized void sendKeepaliveNow(long now) {
        if (!removed) {
            sendKeepalive(now);
            rearm();
        }
    }

    private Keypair usableKeypair(long now) {
        Keypair kp = keypairs.current();
        if (kp == null || endpoint == null || now - kp.createdNanos() >= REJECT_AFTER_TIME_NANOS) {
            return null;
        }
        return kp;
    }

    /**
     * Gives p the next counter of kp and its place in {@link #outbound}, and hands it to the driver to seal: false if
     * kp has no counters left (p is untouched then). Every transport message leaves through here; the caller then
     * tells the timers, once for however many it sent ({@link #sent}).
     */
    private boolean transmit(Packet p, Keypair kp) {
        long counter = kp.nextCounter();
        if (counter == Keypair.EXHAUSTED) {
            return false;
        }
        p.outbound = true;
        p.peer = this;
        p.keypair = kp;
        p.counter = counter;
        p.address = endpoint;
        if (!outbound.add(p)) {
            driver.dropped(p, Drop.PEER_QUEUE_FULL);
            return true;
        }
        txBytes += Keypair.sealedLength(p.length, driver.mtu());
        driver.seal(p);
        return true;
    }

    /** The timers' part of sending at now: data, or only keepalives. */
    private void sent(boolean data, long now) {
        timers.anyAuthenticatedPacketTraversal(now, persistentKeepalive);
        timers.anyAuthenticatedPacketSent();
        if (data) {
            timers.dataSent(now);
            lastDataSentNanos = now;
            if (firstUnansweredDataNanos == 0) {
                firstUnansweredDataNanos = now == 0 ? 1 : now;
            }
        }
    }

    private void sendKeepalive(long now) {
        Keypair kp = usableKeypair(now);
        if (kp == null) {
            requestHandshake(false, now);
            return;
        }
        if (!staged.isEmpty()) {
            flushStaged(kp, now);
            keepKeyFreshSending(kp, now);
            return;
        }
        Packet p = driver.packet(Packet.OVERHEAD);
        if (p == null) {
            driver.count(Drop.BUFFERS_EXHAUSTED);
            return;
        }
        p.length = 0;
        if (!transmit(p, kp)) {
            driver.recycle(p);
            requestHandshake(false, now);
        } else {
            sent(false, now);
            // A keepalive is a transport message too (§6.2; the kernel and wireguard-go check after every send), so
            // an initiator that sends only keepalives still rekeys at REKEY_AFTER_TIME rather than at expiry.
            keepKeyFreshSending(kp, now);
        }
    }

    private void stage(Packet p) {
        byte[] copy = Arrays.copyOfRange(p.buf, Message.TRANSPORT_HEADER_LEN, Message.TRANSPORT_HEADER_LEN + p.length);
        driver.recycle(p);
        if (staged.size() == MAX_STAGED) {
            staged.poll();
            driver.count(Drop.STAGED_OVERFLOW);
        }
        staged.add(copy);
    }

    /** Sends what was staged, oldest first, before anything newer can take a counter. */
    private void flushStaged(Keypair kp, long now) {
        boolean sent = false;
        for (byte[] s; (s = staged.peek()) != null; ) {
            Packet p = driver.packet(s.length + Packet.OVERHEAD);
            if (p == null) {
                driver.count(Drop.BUFFERS_EXHAUSTED);
                break;
            }
            System.arraycopy(s, 0, p.buf, Message.TRANSPORT_HEADER_LEN, s.length);
            p.length = s.length;
            if (!transmit(p, kp)) {
                driver.recycle(p);
                requestHandshake(false, now);
                break;
            }
            sent = true;
            staged.poll();
        }
        if (sent) {
            sent(true, now);
        }
    }

    /** §6.2: the initiator renews a keypair that is old or has sent too much, at its next send. */
    private void keepKeyFreshSending(Keypair kp, long now) {
        if (kp.isInitiator() && (Long.compareUnsigned(kp.sendCount(), REKEY_AFTER_MESSAGES) > 0
                || now - kp.createdNanos() > REKEY_AFTER_TIME_NANOS)) {
            requestHandshake(false, now);
        }
    }

    /**
     * §6.2: an initiator that only receives would otherwise let its keypair lapse: once the keypair is older than
     * REJECT_AFTER_TIME − KEEPALIVE_TIMEOUT − REKEY_TIMEOUT, receiving on it starts a handshake, once.
     */
    private void keepKeyFreshReceiving(Keypair kp, long now) {
        if (!lastMinuteHandshakeSent && kp == keypairs.current() && kp.isInitiator()
                && now - kp.createdNanos() > REJECT_AFTER_TIME_NANOS - KEEPALIVE_TIMEOUT_NANOS - REKEY_TIMEOUT_NANOS) {
            lastMinuteHandshakeSent = true;
            requestHandshake(false, now);
        }
    }

    // ---- handshake ----

    /**
     * Asks the driver for an initiation unless a handshake message (initiation or response) went out less than
     * REKEY_TIMEOUT ago (§6.1) or one is already asked for. A fresh request (not a retransmission) starts the attempt
     * count again.
     */
    private void requestHandshake(boolean retry, long now) {
        if (!retry) {
            handshakeAttempts = 0;
        }
        if (removed || initiationQueued || (rateLimited(now) && !settling)) {
            return;
        }
        initiationQueued = driver.initiate(this);
    }

    private boolean rateLimited(long now) {
        return anyHandshakeSent && now - lastHandshakeSentNanos < REKEY_TIMEOUT_NANOS;
    }

    /** What {@link Driver#initiate} runs: an initiation to the endpoint, if still due. Does the DH work. */
    synchronized void initiate(long now) {
        initiationQueued = false;
        if (rateLimited(now) && !settling) {
            return;
        }
        InetSocketAddress to = endpoint;
        sendInitiation(to == null ? List.of() : List.of(to), true, now);
        rearm();
    }

    /**
     * Roaming's probe: one initiation to every address in to, whatever the rate limit (roaming paces its probes).
     * Returns the probe's id for {@link #probeAgain}.
     */
    synchronized long probe(List<InetSocketAddress> to, long now) {
        checkTargets = List.of();
        sendInitiation(to, true, now);
        rearm();
        return initiations;
    }

    /**
     * Roaming's health check: one initiation to addresses the peer is not using, whatever the rate limit. Until its
     * answer has been followed by our own first message to the current endpoint (which brings the peer back to
     * answering there), neither the response nor packets from those addresses move the endpoint: for
     * {@link #CHECK_PIN_NANOS} after the initiation, or after the response if it comes.
     */
    synchronized void check(List<InetSocketAddress> to, long now) {
        checkTargets = List.copyOf(to);
        checkPinnedUntilNanos = now + CHECK_PIN_NANOS;
        sendInitiation(to, true, now);
        rearm();
    }

    /** Whether an authenticated packet from this address may not move the endpoint now (a health check's). */
    private boolean pinnedAway(InetSocketAddress from, long now) {
        return now - checkPinnedUntilNanos < 0 && checkTargets.contains(from);
    }

    /**
     * The second wave of a probe (IPv4 after IPv6's head start): a new initiation to to, unless another initiation
     * went out or a handshake completed since the probe. It is a new initiation rather than the same one because a
     * responder that got the first over one family would drop a copy over the other as a replay; and since it
     * replaces this side's handshake state, a late answer to the first wave no longer counts. Returns the id of the
     * wave for the next, or -1 if this one was not sent.
     */
    synchronized long probeAgain(long probe, List<InetSocketAddress> to, long now) {
        if (probe == initiations && handshakesCompleted == handshakesCompletedAtInitiation) {
            sendInitiation(to, false, now);
            rearm();
            return initiations;
        }
        return -1;
    }

    /** A new initiation to every address in to; fresh: a new round of RTT measurements. */
    private void sendInitiation(List<InetSocketAddress> to, boolean fresh, long now) {
        if (removed || !handshake.canHandshake()) {
            return;
        }
        closeAnswers();
        settling = false;
        anyHandshakeSent = true;
        lastHandshakeSentNanos = now;
        byte[] msg = new byte[Message.INITIATION_LEN];
        if (!handshake.createInitiation(msg, 0, newHandshakeIndex(), driver.random(), driver.epochNanos())) {
            releaseHandshakeIndex();
            return;
        }
        cookies.addMacs(msg, 0, msg.length, now);
        initiations++;
        if (fresh) {
            initiationSentAt.clear();
            handshakesCompletedAtInitiation = handshakesCompleted;
        }
        if (driver.logging()) {
            driver.log(this + ": sending handshake initiation to " + to.size() + " address(es)");
        }
        timers.anyAuthenticatedPacketTraversal(now, persistentKeepalive);
        timers.anyAuthenticatedPacketSent();
        for (InetSocketAddress address : to) {
            initiationSentAt.put(address, now);
            driver.sendHandshake(msg, address);
            txBytes += msg.length;
        }
        timers.handshakeInitiated(now);
    }

    /**
     * The peer's initiation was consumed (by {@link Handshake#consumeInitiation}, macs and load checks passed): answer
     * it from from. The responder derives its keypair now but sends on it only after key confirmation.
     */
    synchronized void respond(InetSocketAddress from, int initiationLength, long now) {
        if (removed) {
            return;
        }
        if (driver.logging()) {
            driver.log(this + ": received handshake initiation");
        }
        closeAnswers(); // consuming the peer's initiation ended any exchange of ours
        authenticatedFrom(from, true, initiationLength, now);
        // The initiation was consumed on a handshake worker before this lock was taken, and an initiation of our own
        // may have gone out in between: the handshake then holds ours, which the peer may well answer. Leave it and
        // its index alone (taking a new index would free the one the peer's response names, and a session installed
        // under a freed index receives nothing); the peer's initiation goes unanswered, as if crossed on the wire.
        if (handshake.state() != Handshake.State.INITIATION_CONSUMED) {
            driver.count(Drop.WRONG_STATE);
            return;
        }
        byte[] response = new byte[Message.RESPONSE_LEN];
        if (!handshake.createResponse(response, 0, newHandshakeIndex(), driver.random())) {
            releaseHandshakeIndex();
            driver.count(Drop.WRONG_STATE);
            return;
        }
        Keypair kp = handshake.deriveKeypair(now);
        if (kp == null) {
            releaseHandshakeIndex();
            return;
        }
        install(kp, now);
        cookies.addMacs(response, 0, response.length, now);
        timers.anyAuthenticatedPacketTraversal(now, persistentKeepalive);
        timers.anyAuthenticatedPacketSent();
        if (driver.logging()) {
            driver.log(this + ": sending handshake response");
        }
        // A response counts against the rate limit as in the kernel and wireguard-go: when two initiations cross, each
        // side answers the other's, and this keeps both from crossing again on their next sends; the first jittered
        // retransmission then goes alone.
        anyHandshakeSent = true;
        lastHandshakeSentNanos = now;
        driver.sendHandshake(response, from);
        txBytes += response.length;
        rearm();
    }

    /**
     * A response to our initiation at msg[0, RESPONSE_LEN) (found by its receiver index, macs and load checks
     * passed); msg may be a longer, reused buffer.
     */
    synchronized void consumeResponse(byte[] msg, InetSocketAddress from, long now) {
        if (removed) {
            return;
        }
        Keypair current = keypairs.current();
        if (answersOpen && current != null && current.isInitiator()
                && Message.getInt(msg, Message.RESPONSE_RECEIVER) == current.localIndex()) {
            furtherAnswer(msg, from, now);
            return;
        }
        if (handshake.consumeResponse(msg, 0) instanceof Result.Dropped<Handshake> d) {
            driver.count(d.reason());
            return;
        }
        if (driver.logging()) {
            driver.log(this + ": received handshake response");
        }
        Long sentAt = initiationSentAt.get(from);
        boolean check = pinnedAway(from, now);
        if (check) {
            // Our first message on the new session goes to the current endpoint below; give its answer a second.
            checkPinnedUntilNanos = now + CHECK_PIN_AFTER_RESPONSE_NANOS;
        }
        authenticatedFrom(from, false, Message.RESPONSE_LEN, now);
        Keypair kp = handshake.deriveKeypair(now);
        if (kp == null) {
            return;
        }
        install(kp, now);
        answersOpen = true;
        timers.answered(now);
        handshakeComplete();
        // §5.4.5: the responder may not send until our first message confirms the session, so one goes at once.
        if (staged.isEmpty()) {
            sendKeepalive(now);
        } else {
            flushStaged(kp, now);
        }
        long rtt = sentAt == null ? -1 : now - sentAt;
        if (!check) {
            rttSample(rtt, now); // a check's is another path's round trip
        }
        driver.handshakeCompleted(this, from, rtt);
        rearm();
    }

    /**
     * Another answer to the initiation whose first answer made the current session (its receiver index is the
     * session's): the peer consumed two copies of it, as roaming's probes and health checks send one to each
     * address, and it keeps the session of only one of its answers ({@link Handshake#furtherAnswer}). Which one
     * cannot be told from here (it is the one it made last, and answers may cross on the way, or come from two hosts
     * that share a key), so a new initiation settles it, to the endpoint alone, as soon as the peer's flood limit
     * allows ({@link Timers#SETTLE_DELAY_NANOS}); the endpoint and the session stay as they are meanwhile. Before,
     * our packets could go for ~0.5 s on a session the peer had dropped, until roaming suspected the silence.
     */
    private void furtherAnswer(byte[] msg, InetSocketAddress from, long now) {
        Result<Handshake> r = handshake.furtherAnswer(msg, 0);
        if (handshake.state() != Handshake.State.ANSWERED) {
            closeAnswers();
        }
        if (r instanceof Result.Dropped<Handshake> d) {
            driver.count(d.reason());
            return;
        }
        rxBytes += Message.RESPONSE_LEN;
        timers.anyAuthenticatedPacketTraversal(now, persistentKeepalive);
        timers.anyAuthenticatedPacketReceived();
        driver.log(this + ": a second answer to our initiation, from " + Uapi.formatEndpoint(from)
                + ": the peer took two copies of it and keeps the session of one; a new handshake settles which");
        settling = true;
        timers.settleHandshake(lastHandshakeSentNanos, now);
        rearm();
    }

    /** No further answer to our last initiation is looked for any more; the handshake erases what it kept for one. */
    private void closeAnswers() {
        if (answersOpen) {
            answersOpen = false;
            timers.answersClosed();
            handshake.closeAnswers();
        }
    }

    /** Whether a response naming one of this peer's sessions may be a further answer (read without the lock). */
    boolean answersOpen() {
        return answersOpen;
    }

    /** A cookie reply to one of our messages (§5.4.7): the next initiation carries mac2. */
    synchronized void consumeCookieReply(byte[] msg, long now) {
        if (cookies.consumeReply(msg, 0, now) instanceof Result.Dropped<?> d) {
            driver.count(d.reason());
        }
    }

    /** The handshake's keypair takes over the handshake's receiver index. */
    private void install(Keypair kp, long now) {
        Session session = new Session(this, kp);
        driver.indices().replace(kp.localIndex(), session);
        handshakeSession = null;
        keypairs.install(session);
        timers.sessionDerived(now);
    }

    private void handshakeComplete() {
        if (!sessionUp) {
            sessionUp = true;
            driver.peerEvent(this, Hooks.Event.SESSION_UP, endpoint, null, "handshake");
        }
        timers.handshakeComplete();
        handshakeAttempts = 0;
        lastMinuteHandshakeSent = false;
        handshakesCompleted++;
        lastHandshakeEpochNanos = driver.epochNanos();
    }

    /** A fresh receiver index for the handshake in flight, replacing the previous one. */
    private int newHandshakeIndex() {
        releaseHandshakeIndex();
        handshakeSession = new Session(this, null);
        handshakeIndex = driver.indices().allocate(handshakeSession);
        return handshakeIndex;
    }

    private void releaseHandshakeIndex() {
        if (handshakeSession != null) {
            driver.indices().remove(handshakeIndex, handshakeSession);
            handshakeSession = null;
        }
    }

    private void release(Session s) {
        driver.indices().remove(s.keypair().localIndex(), s);
        driver.retire(s.keypair());
    }

    // ---- inbound ----

    /**
     * The ordered half of receiving transport messages, ps[0, count) in arrival order, as one drainer's turn hands
     * them over: each p was decrypted by a worker (p.result: plaintext length or a Drop code). Checks each counter
     * against the replay window (here, in arrival order, so the window is exact) and sets p.result to the length of
     * the IP packet at p.buf[16...] to write to the TUN device, 0 for a keepalive, or a Drop code. One lock, and the
     * bookkeeping of authenticated packets (timers, endpoint) is done once, by the last packet accepted.
     *
     * <p>The endpoint follows the last packet accepted on the current or next session, and for REKEY_TIMEOUT after a
     * new session, not on "previous": the peer sealed those before it heard of our newest handshake, so their source
     * is where it was, not where it is. When roaming has just moved us to another of the peer's addresses with a
     * handshake, the peer's packets still in flight from the old one would otherwise move us straight back. Only for
     * a while: a peer that roamed before our first message on the new session reached it keeps sealing on "previous"
     * from its new address, and must not be ignored until it initiates itself.
     */
    synchronized void receive(Packet[] ps, int count, long now) {
        Packet last = null;
        InetSocketAddress from = null;
        long bytes = 0;
        boolean data = false;
        for (int i = 0; i < count; i++) {
            Packet p = ps[i];
            int n = accept(p, now);
            if (n >= 0) {
                last = p;
                if (movesEndpoint(p.keypair, now)) {
                    from = p.address;
                }
                bytes += p.length;
                n = inner(p, n);
                data |= n > 0;
            }
            p.result = n;
        }
        if (last != null) {
            authenticatedFrom(from, true, bytes, now);
            received(last.keypair, data, now);
            if (answersOpen && last.keypair == keypairs.current()) {
                closeAnswers(); // the peer sends on the session we took, so that is the one it kept
            }
        }
        rearm();
    }

    /** Whether a packet accepted on kp says where the peer is now: see {@link #receive}. */
    private boolean movesEndpoint(Keypair kp, long now) {
        return !keypairs.isPrevious(kp) || now - keypairs.current().createdNanos() >= REKEY_TIMEOUT_NANOS;
    }

    /**
     * One packet's checks in arrival order: its plaintext's length if it is authentic, of a live keypair and not
     * replayed (a message the peer sent, then), or a Drop code.
     */
    private int accept(Packet p, long now) {
        if (p.result < 0) {
            return p.result;
        }
        Keypair kp = p.keypair;
        if (removed) {
            return Drop.PEER_GONE.code();
        }
        if (!keypairs.holds(kp)) {
            return Drop.UNKNOWN_INDEX.code();
        }
        if (now - kp.createdNanos() >= REJECT_AFTER_TIME_NANOS) {
            return Drop.KEYPAIR_EXPIRED.code();
        }
        if (!kp.acceptCounter(p.counter)) {
            return Drop.REPLAYED_COUNTER.code();
        }
        if (keypairs.isNext(kp)) {
            keypairs.confirmNext();
            handshakeComplete();
            flushStaged(kp, now);
        }
        return p.result;
    }

    /** What to write to the TUN device of an accepted plaintext of n bytes: see {@link #receive}. */
    private static int inner(Packet p, int n) {
        if (n == 0) {
            return 0;
        }
        int ip = innerLength(p.buf, Message.TRANSPORT_HEADER_LEN, n);
        return ip < 0 ? Drop.NOT_IP.code() : ip;
    }

    /** The timers' part of receiving on kp at now: data, or only keepalives. */
    private void received(Keypair kp, boolean data, long now) {
        keepKeyFreshReceiving(kp, now);
        if (data) {
            timers.dataReceived(now);
        }
    }

    /**
     * The bookkeeping of every authenticated message received. Its source becomes the endpoint (§2.1); a message
     * the peer sent on its own (roams: not a response to us) moving it is news for roaming.
     */
    private void authenticatedFrom(InetSocketAddress from, boolean roams, long length, long now) {
        long owed = firstUnansweredDataNanos;
        if (owed != 0) {
            firstUnansweredDataNanos = 0;
            if (from == null || from.equals(endpoint)) {
                rttSample(now - owed, now);
            }
        }
        rxBytes += length;
        timers.anyAuthenticatedPacketTraversal(now, persistentKeepalive);
        timers.anyAuthenticatedPacketReceived();
        InetSocketAddress old = endpoint;
        if (from != null && !from.equals(old) && !pinnedAway(from, now)) {
            moveEndpoint(from, FROM_A_NEW_ADDRESS);
            if (old != null) {
                driver.log(this + ": endpoint changed from " + Uapi.formatEndpoint(old) + " to "
                        + Uapi.formatEndpoint(from));
                if (roams) {
                    driver.endpointRoamed(this, old, from);
                }
            }
        }
    }

    /** The IP packet's own length within n bytes of padded plaintext at buf[off...], or -1 if it is not one. */
    static int innerLength(byte[] buf, int off, int n) {
        int version = (buf[off] & 0xff) >> 4;
        int total;
        if (version == 4 && n >= 20) {
            total = (buf[off + 2] & 0xff) << 8 | (buf[off + 3] & 0xff);
            return total <= n && total >= 20 ? total : -1;
        }
        if (version == 6 && n >= 40) {
            total = 40 + ((buf[off + 4] & 0xff) << 8 | (buf[off + 5] & 0xff));
            return total <= n ? total : -1;
        }
        return -1;
    }

    // ---- timers ----

    /** What {@link Driver#wakeAt} runs: acts on every timer that is due, then asks to be woken for the next. */
    synchronized void tick(long now) {
        if (wakeAt != Timers.OFF && now - wakeAt >= 0) {
            wakeAt = Timers.OFF;
        }
        if (removed) {
            return;
        }
        int due = timers.due(now);
        if ((due & Timers.RETRANSMIT_HANDSHAKE) != 0) {
            retransmitHandshake(now);
        }
        if ((due & Timers.SEND_KEEPALIVE) != 0) {
            sendKeepalive(now);
            timers.passiveKeepaliveSent(now);
        }
        if ((due & Timers.NEW_HANDSHAKE) != 0) {
            driver.log(this + ": nothing came back for " + (KEEPALIVE_TIMEOUT_NANOS + REKEY_TIMEOUT_NANOS) / 1_000_000_000L
                    + " s after data was sent, starting a new handshake");
            requestHandshake(false, now);
        }
        if ((due & Timers.ZERO_KEY_MATERIAL) != 0) {
            driver.log(this + ": no new session for " + 3 * REJECT_AFTER_TIME_NANOS / 1_000_000_000L
                    + " s, erasing its keys");
            eraseKeys();
            sessionDown("no handshake for " + 3 * REJECT_AFTER_TIME_NANOS / 1_000_000_000L + " s");
        }
        if ((due & Timers.PERSISTENT_KEEPALIVE) != 0 && persistentKeepalive > 0) {
            sendKeepalive(now);
        }
        if ((due & Timers.CLOSE_ANSWERS) != 0) {
            answersOpen = false;
            handshake.closeAnswers();
        }
        if ((due & Timers.SETTLE_HANDSHAKE) != 0 && settling) {
            requestHandshake(false, now);
        }
        rearm();
    }

    private void retransmitHandshake(long now) {
        if (handshakeAttempts > MAX_TIMER_HANDSHAKES) {
            driver.log(this + ": no handshake after " + (handshakeAttempts + 1) + " initiations, giving up");
            timers.handshakeGaveUp(now);
            for (int n = staged.size(); n > 0; n--) {
                driver.count(Drop.HANDSHAKE_GAVE_UP);
            }
            staged.clear();
            return;
        }
        handshakeAttempts++;
        driver.log(this + ": no response after " + REKEY_TIMEOUT_NANOS / 1_000_000_000L + " s, initiating again (try "
                + (handshakeAttempts + 1) + ")");
        requestHandshake(true, now);
    }

    /** Asks the driver to wake this peer at its earliest deadline, unless a wake-up at or before it is pending. */
    private void rearm() {
        long next = timers.next();
        if (next != Timers.OFF && (wakeAt == Timers.OFF || next - wakeAt < 0)) {
            wakeAt = next;
            driver.wakeAt(this, next);
        }
    }

    /** The session is gone (if there was one): the hook hears of it once. */
    private void sessionDown(String reason) {
        if (sessionUp) {
            sessionUp = false;
            driver.peerEvent(this, Hooks.Event.SESSION_DOWN, endpoint, null, reason);
        }
    }

    private void eraseKeys() {
        keypairs.clear();
        releaseHandshakeIndex();
        answersOpen = false;
        timers.answersClosed();
        handshake.clear();
    }

    // ---- configuration ----

    synchronized void setEndpoint(InetSocketAddress address) {
        InetSocketAddress old = endpoint;
        if (address != null && !address.equals(old)) {
            moveEndpoint(address, SET_BY_WG);
            if (old != null) {
                driver.log(this + ": endpoint set from " + Uapi.formatEndpoint(old) + " to "
                        + Uapi.formatEndpoint(address));
            }
        }
    }

    /** The one place the endpoint changes (under the lock), so that the device's set of endpoints follows it. */
    private void moveEndpoint(InetSocketAddress to, String reason) {
        InetSocketAddress old = endpoint;
        endpoint = to;
        pathRttNanos = 0;
        driver.endpointMoved(old, to);
        driver.peerEvent(this, Hooks.Event.ENDPOINT_CHANGED, to, old, reason);
    }

    /** Q lives in the handshake only, which copies it: one copy of it in the daemon. */
    void setPresharedKey(Secret psk) {
        handshake.setPresharedKey(psk);
    }

    /** Sets the persistent keepalive interval (0: off); true if it was off and is now on. */
    synchronized boolean setPersistentKeepalive(int seconds) {
        boolean switchedOn = persistentKeepalive == 0 && seconds > 0;
        persistentKeepalive = seconds;
        if (seconds == 0) {
            timers.persistentKeepaliveOff();
        }
        return switchedOn;
    }

    /** The device's private key changed: sessions and a handshake under the old one are void. */
    synchronized void identityChanged(StaticIdentity identity) {
        eraseKeys();
        sessionDown("private key changed");
        handshake.setLocalIdentity(identity);
        anyHandshakeSent = false;
    }

    /** The peer leaves the device: everything it registered is released, its keys erased, its staged packets dropped. */
    synchronized void remove() {
        removed = true;
        driver.endpointMoved(endpoint, null);
        timers.stop();
        eraseKeys();
        sessionDown("peer removed");
        handshake.destroy();
        for (int n = staged.size(); n > 0; n--) {
            driver.count(Drop.PEER_GONE);
        }
        staged.clear();
    }

    // ---- what the UAPI and roaming read ----

    /** The handshake, for the device's lookup of an initiator by its static key. */
    Handshake handshake() {
        return handshake;
    }

    InetSocketAddress endpoint() {
        return endpoint;
    }

    void appendPresharedKeyHex(Appendable out) throws IOException {
        handshake.appendPresharedKeyHex(out);
    }

    int persistentKeepalive() {
        return persistentKeepalive;
    }

    long lastHandshakeEpochNanos() {
        return lastHandshakeEpochNanos;
    }

    long txBytes() {
        return txBytes;
    }

    long rxBytes() {
        return rxBytes;
    }

    long lastDataSentNanos() {
        return lastDataSentNanos;
    }

    long firstUnansweredDataNanos() {
        return firstUnansweredDataNanos;
    }

    long pathRttNanos() {
        return pathRttNanos;
    }

    /** A round trip measured on the current path: kept if it is the least, or the one kept is getting old. */
    private void rttSample(long rtt, long now) {
        if (rtt > 0 && (pathRttNanos == 0 || rtt < pathRttNanos || now - pathRttSampledNanos > RTT_WINDOW_NANOS)) {
            pathRttNanos = rtt;
            pathRttSampledNanos = now;
        }
    }

    boolean isRemoved() {
        return removed;
    }

    synchronized int stagedCount() {
        return staged.size();
    }

    synchronized Keypair currentKeypair() {
        return keypairs.current();
    }

    @Override
    public String toString() {
        return "peer(" + publicKey.shortForm() + ")";
    }
}
