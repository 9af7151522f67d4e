package jwg.tunnel;

import java.util.ArrayList;
import java.util.List;
import jwg.noise.Keypair;

/**
 * A peer's previous, current and next keypairs (§5.4.5, §6): the initiator uses a new keypair at once; the responder
 * holds it as "next" until the initiator's first transport message arrives on it (key confirmation), and meanwhile
 * keeps sending on the current one. Messages may still arrive on the previous keypair during the switch.
 *
 * <p>Changes take this object's lock; the send path reads {@link #current} without one.
 */
final class Keypairs {
    private Session previous;
    private volatile Session current;
    private volatile Session next;

    /** The keypair to send with, or null. */
    Keypair current() {
        Session s = current;
        return s == null ? null : s.keypair();
    }

    /** Installs a newly derived keypair and returns the sessions it pushed out, whose indices must be freed. */
    synchronized List<Session> install(Session fresh) {
        List<Session> dropped = new ArrayList<>(2);
        if (fresh.keypair().isInitiator()) {
            if (next != null) {
                // A responder-side keypair never confirmed: it becomes "previous" so late messages on it still open.
                add(dropped, previous);
                add(dropped, current);
                previous = next;
                next = null;
            } else {
                add(dropped, previous);
                previous = current;
            }
            current = fresh;
        } else {
            add(dropped, next);
            add(dropped, previous);
            next = fresh;
            previous = null;
        }
        return dropped;
    }

    /**
     * Called for every authenticated transport message: the first one on "next" confirms it. Returns the sessions that
     * pushed out (null when nothing changed, which is the case for every packet but one per handshake).
     */
    List<Session> received(Keypair keypair) {
        Session n = next;
        if (n == null || n.keypair() != keypair) {
            return null;
        }
        synchronized (this) {
            if (next != n) {
                return null;
            }
            List<Session> dropped = new ArrayList<>(1);
            add(dropped, previous);
            previous = current;
            current = n;
            next = null;
            return dropped;
        }
    }

    /** Forgets every keypair (key material zeroing, peer removal); returns them for index release. */
    synchronized List<Session> clear() {
        List<Session> dropped = new ArrayList<>(3);
        add(dropped, previous);
        add(dropped, current);
        add(dropped, next);
        previous = null;
        current = null;
        next = null;
        return dropped;
    }

    private static void add(List<Session> list, Session s) {
        if (s != null) {
            list.add(s);
        }
    }
}
