package jwg.tunnel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import jwg.tun.Tun;

/** The process-level libc calls the daemon needs (JNA direct mapping; none is on a packet path). */
final class Posix {
    private static final int SOL_SOCKET = 1;
    private static final int SO_MARK = 36;
    private static final int SO_SNDBUFFORCE = 32;
    private static final int SO_RCVBUFFORCE = 33;

    static {
        Native.register(Posix.class, Tun.C_LIBRARY);
    }

    private Posix() {}

    private static native int setsid();

    private static native int umask(int mask);

    private static native int setsockopt(int fd, int level, int name, long value, int length);

    private static native String strerror(int errnum);

    private static native long signal(int signum, long handler);

    private static native int setpriority(int which, int who, int prio);

    private static native int getpriority(int which, int who);

    /** errno as the C library says it, with its number. */
    static String describe(int errno) {
        return strerror(errno) + " (errno " + errno + ")";
    }

    /** Leaves the parent's session, so the terminal's hang-up and Ctrl-C no longer reach the daemon. */
    static void detachFromTerminal() {
        setsid();
    }

    /**
     * Makes SIGINT end the daemon through its shutdown hooks, as SIGTERM does, even if it was started with SIGINT
     * ignored: a non-interactive shell ignores it for every command it starts with {@code &}, and the JVM leaves a
     * signal alone that it finds ignored. wireguard-go (Go's signal.Notify) takes it back the same way.
     */
    static void exitOnInterrupt() {
        final int sigint = 2;
        final long sigDfl = 0;
        signal(sigint, sigDfl);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> System.exit(128 + sigint));
    }

    /**
     * Gives the calling thread the lowest CPU priority (nice 19): on Linux the nice value belongs to a thread, and
     * PRIO_PROCESS with who 0 means the caller. For background work that must not delay anything else on the machine.
     */
    static void lowestPriority() {
        lowerPriority(19);
    }

    /**
     * Gives the calling thread nice value {@code nice} (0 to 19; see {@link #lowestPriority}) unless it has a higher
     * one already: a thread started by one at nice 19 (the start-up training's devices, see {@link Daemon}) inherits
     * it, and as root setting a lower value would raise it to the real device's priority.
     */
    static void lowerPriority(int nice) {
        final int prioProcess = 0;
        if (getpriority(prioProcess, 0) < nice) {
            setpriority(prioProcess, 0, nice);
        }
    }

    /** The calling thread's nice value (see {@link #lowestPriority}). */
    static int niceValue() {
        return getpriority(0, 0);
    }

    /**
     * Gives the calling thread nice value {@code nice}, higher or lower than its own; false where it may not (a lower
     * value needs CAP_SYS_NICE, which root has). For a thread that must not keep the nice value of the one that made it.
     */
    static boolean setNice(int nice) {
        return setpriority(0, 0, nice) == 0;
    }

    /** Sets the process umask and returns the previous one. */
    static int setUmask(int mask) {
        return umask(mask);
    }

    /**
     * Socket buffers past net.core.[rw]mem_max (208 KiB by default, far too small for bursts of sendmmsg), which
     * only root may set; false if refused (the sizes then stay capped).
     */
    static boolean forceBuffers(int fd, int bytes) {
        try (Memory value = new Memory(4)) {
            value.setInt(0, bytes);
            return setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, Pointer.nativeValue(value), 4) == 0
                    & setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, Pointer.nativeValue(value), 4) == 0;
        }
    }

    /** SO_MARK on a socket: wg-quick marks the tunnel's own UDP traffic so its policy routing lets it out. */
    static void setMark(int fd, int mark) throws java.io.IOException {
        try (Memory value = new Memory(4)) {
            value.setInt(0, mark);
            if (setsockopt(fd, SOL_SOCKET, SO_MARK, Pointer.nativeValue(value), 4) != 0) {
                int errno = Native.getLastError();
                throw new IOException("setting fwmark " + mark + ": " + strerror(errno));
            }
        }
    }
}
