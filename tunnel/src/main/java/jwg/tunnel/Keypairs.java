package jwg.tunnel;

import java.util.function.Consumer;
import jwg.noise.Keypair;

/**
 * A peer's previous, current and next sessions (§5.4.5, §6). The initiator sends on a new keypair at once. The
 * responder keeps its new keypair as "next" until the initiator's first transport message arrives on it (key
 * confirmation: only then does it know the initiator holds the same keys), sending on "current" meanwhile. "Previous"
 * stays so that messages sealed before a switch still open after it.
 *
 * <p>Not thread-safe: only its {@link Peer} touches it, under the peer's lock. Every session pushed out is handed to
 * the release callback, which frees its receiver index: that is the one path by which keypairs leave.
 */
final class Keypairs {
    private final Consumer<Session> release;
    private Session previous;
    private Session current;
    private Session next;

    Keypairs(Consumer<Session> release) {
        this.release = release;
    }

    /** The keypair to send with, or null. */
    Keypair current() {
        return current == null ? null : current.keypair();
    }

    /** Whether kp is one of the three, i.e. its index has not been released. */
    boolean holds(Keypair kp) {
        return is(previous, kp) || is(current, kp) || is(next, kp);
    }

    boolean isNext(Keypair kp) {
        return is(next, kp);
    }

    /** Whether kp is "previous": a newer session exists, so kp's messages were sealed before the peer knew of it. */
    boolean isPrevious(Keypair kp) {
        return is(previous, kp);
    }

    /** Installs a newly derived session, releasing the ones it pushes out. */
    void install(Session fresh) {
        if (fresh.keypair().isInitiator()) {
            if (next != null) {
                // An unconfirmed responder keypair: the other side may have sent on it, so it becomes "previous".
                drop(previous);
                drop(current);
                previous = next;
                next = null;
            } else {
                drop(previous);
                previous = current;
            }
            current = fresh;
        } else {
            drop(next);
            drop(previous);
            next = fresh;
            previous = null;
        }
    }

    /** Key confirmation (§5.4.5): "next" becomes current. Call only when {@link #isNext} is true. */
    void confirmNext() {
        drop(previous);
        previous = current;
        current = next;
        next = null;
    }

    /** Releases all three (key erasure, a new private key, removal). */
    void clear() {
        drop(previous);
        drop(current);
        drop(next);
        previous = null;
        current = null;
        next = null;
    }

    private void drop(Session s) {
        if (s != null) {
            release.accept(s);
        }
    }

    private static boolean is(Session s, Keypair kp) {
        return s != null && s.keypair() == kp;
    }
}
