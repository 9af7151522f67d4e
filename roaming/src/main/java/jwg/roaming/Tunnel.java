package jwg.roaming;

import java.net.InetSocketAddress;
import java.util.List;
import jwg.noise.Key;

/**
 * All that roaming needs from a WireGuard device, and all it may do to one. Times are System.nanoTime() values;
 * 0 means "never".
 */
public interface Tunnel {
    /** Whether the device has this peer. */
    boolean hasPeer(Key peer);

    /** The peer's current endpoint, or null. */
    InetSocketAddress endpoint(Key peer);

    /** When a data packet was last sent to the peer. */
    long lastDataSentNanos(Key peer);

    /**
     * When the oldest data packet sent to the peer since anything authenticated last came back from it was sent: how
     * long the peer has owed an answer. 0 while nothing is owed.
     */
    long firstUnansweredDataNanos(Key peer);

    /**
     * The round trip of the path to the peer's current endpoint: the least of the recent samples (an answer to
     * data, from the first packet owed one to the packet that paid; a response to an initiation), so that the first
     * handshake's address resolution or a peer's pause does not inflate it; 0 while there is none.
     */
    long pathRttNanos(Key peer);

    /**
     * Sends one handshake initiation for the peer to every address of the first wave, then, unless a handshake
     * completed meanwhile, a new one to the next wave waveDelayNanos later, and so on (happy eyeballs: IPv6 before
     * IPv4, a preferred endpoint before a backup). One message to several addresses is safe: the responder accepts a
     * timestamp once, so copies that reach it one after the other die as replays, and the first response completes
     * the handshake. That response's source becomes the endpoint (built-in roaming), and
     * {@link Listener#handshakeCompleted} reports it. Copies that reach two of the responder's handshake workers at
     * once may both be answered (the kernel and wireguard-go check and record the timestamp in two steps), and the
     * responder keeps only one answer's session, not necessarily the one taken; the device then settles it with a
     * new handshake to the endpoint ~30 ms later, which neither moves the endpoint nor is reported.
     */
    void probe(Key peer, List<List<InetSocketAddress>> waves, long waveDelayNanos);

    /**
     * A health check of addresses the peer is not using: one handshake initiation to them that, answered, does not
     * move the endpoint. Nor do the peer's packets from those addresses while the check lasts, since a peer answers
     * from where it was last reached, and would otherwise drag the endpoint there before roaming has decided to go.
     * The handshake completes as any other (its session carries traffic to the current endpoint), and
     * {@link Listener#handshakeCompleted} reports where the response came from.
     */
    void check(Key peer, List<InetSocketAddress> targets);

    /** What the device reports back to roaming. */
    interface Listener {
        /**
         * A handshake this side initiated completed: the response came from {@code from}, {@code rttNanos} after the
         * initiation went to that address.
         */
        void handshakeCompleted(Key peer, InetSocketAddress from, long rttNanos);

        /** The peer's endpoint changed because an authenticated packet arrived from a new address. */
        void endpointRoamed(Key peer, InetSocketAddress from, InetSocketAddress to);
    }
}
