package jwg.tunnel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler autogroup of the daemon's session, lowered while the start-up's background work runs.
 *
 * <p>Why: with autogroup scheduling (CONFIG_SCHED_AUTOGROUP, on in this machine's kernel) the CPU is
 * shared between sessions first, and a thread's nice value only weighs against threads of its own session. The
 * daemon leaves its caller's session at start ({@link Posix#detachFromTerminal}), so the warm-up's nice 19 (and the
 * JIT threads it keeps busy, which run at 0) took half of a 2-core machine from whatever the user ran next: a second
 * daemon started right after the first took 320-540 ms instead of 190-240 without the warm-up (6 starts each).
 * Lowering the whole group while the warm-up runs, then putting it back, gives the warm-up the meaning it was meant to
 * have.
 *
 * <p>While lowered, everything the daemon does competes at nice 19 with other sessions, so the daemon keeps it so
 * only until its first UAPI connection: no peer, and so no traffic, comes any other way, and a {@code wg} waiting on a
 * daemon at nice 19 on a busy machine would wait long. A first version (2026-12-03) restored at the first traffic,
 * seen by the main thread every 5 ms: one cold handshake in five took 188 ms instead of 27-60, the daemons'
 * groups still lowered when it came, behind the harness's own JVMs.
 *
 * <p>Contract: {@link #lower} takes effect only in a session this process leads (a group of its own, not a terminal
 * shared with the user) and only with CAP_SYS_ADMIN: without it the kernel accepts one autogroup change per 100 ms
 * machine-wide, and a restore refused so would leave the daemon at nice 19. {@link #restore} may be called from any
 * thread, any number of times; the first puts the group back, the rest do nothing.
 */
final class Autogroup {
    private static final Path SELF = Path.of("/proc/self/autogroup");
    private static final int CAP_SYS_ADMIN = 21;
    /** The background nice value: the lowest priority there is. */
    static final int BACKGROUND = 19;

    private final Path file;
    private final int original;
    private final Log log;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean lowered;

    private Autogroup(Path file, int original, Log log) {
        this.file = file;
        this.original = original;
        this.log = log;
    }

    /**
     * This session's group at nice {@link #BACKGROUND}, or null where that is not done (see the class comment) or
     * the kernel has no autogroups; never throws.
     */
    static Autogroup lower(boolean ownSession, Log log) {
        if (!ownSession || !hasCapability(CAP_SYS_ADMIN)) {
            return null;
        }
        return lower(SELF, log);
    }

    /** As {@link #lower(boolean, Log)} on a given file (tests), with no session or capability check. */
    static Autogroup lower(Path file, Log log) {
        try {
            int nice = niceOf(Files.readString(file));
            if (nice >= BACKGROUND) {
                return null;
            }
            Files.writeString(file, Integer.toString(BACKGROUND));
            Autogroup g = new Autogroup(file, nice, log);
            g.lowered = true;
            return g;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether the group is still lowered (no {@link #restore} yet). */
    boolean isLowered() {
        lock.lock();
        try {
            return lowered;
        } finally {
            lock.unlock();
        }
    }

    /** Puts the group back to its nice value before {@link #lower}; the first call does, later ones return at once. */
    void restore() {
        lock.lock();
        try {
            if (!lowered) {
                return;
            }
            lowered = false;
            Files.writeString(file, Integer.toString(original));
        } catch (IOException e) {
            log.error("could not restore the session's scheduling priority (" + file + "): " + e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    /** The nice value in a /proc/PID/autogroup line ("/autogroup-25 nice 0"). */
    static int niceOf(String line) {
        int at = line.lastIndexOf("nice ");
        if (at < 0) {
            throw new IllegalArgumentException("no nice value in '" + line.strip() + "'");
        }
        return Integer.parseInt(line.substring(at + 5).strip());
    }

    /** Whether this process has capability cap in its effective set (CapEff in /proc/self/status). */
    private static boolean hasCapability(int cap) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) >>> cap & 1) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: as if not held
        }
        return false;
    }
}
