package jwg.tunnel;

import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jwg.noise.Key;

/**
 * The operator's hook: one shell command (JWG_HOOK, or {@code #jwg: Hook = ...} in the [Interface] of the wg-quick
 * file, which wins), run on a peer's events with the facts in its environment:
 * <pre>
 *   JWG_EVENT            session_up, session_down or endpoint_changed
 *   JWG_INTERFACE        the interface
 *   JWG_PEER             the peer's public key, base64
 *   JWG_ENDPOINT         the endpoint now, as wg show prints it (empty: none)
 *   JWG_ENDPOINT_BEFORE  endpoint_changed only: the one before (empty: none)
 *   JWG_REASON           why: "handshake", "no handshake for 540 s", "peer removed", "private key changed",
 *                        "authenticated packet from a new address", "set by wg"
 * </pre>
 * Its output goes to the daemon's log (standard error).
 *
 * <p>Concurrency: {@link #post} is called by any thread, often with a peer's lock held; it only offers the event to
 * a bounded queue ({@link #MAX_QUEUED}) and never waits, so no packet thread and no peer ever waits for a hook. At
 * most {@link #MAX_RUNNING} hooks run at once, each on a thread of this class's own (made when needed, gone when
 * idle): a hook that takes long holds one of them, and the others carry on. One that runs past {@link #TIMEOUT_MS}
 * is killed; an event that finds the queue full is dropped (a `wg setconf` of 10,000 peers is 10,000 events): both
 * are logged, a burst of drops in two lines, as is a hook that exits non-zero.
 */
final class Hooks implements AutoCloseable {
    static final int MAX_RUNNING = 4;
    static final int MAX_QUEUED = 64;
    static final long TIMEOUT_MS = 5 * 60 * 1000L;

    enum Event { SESSION_UP, SESSION_DOWN, ENDPOINT_CHANGED }

    private final String interfaceName;
    private final Log log;
    private final ThreadPoolExecutor runners;
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    /** Events dropped since the last one that was not: one log line per burst, not one per event of a big set. */
    private final AtomicInteger dropped = new AtomicInteger();
    private final String fromEnvironment;
    private volatile String command;

    /** command: JWG_HOOK's (null or blank: none), the hook until the config names one. */
    Hooks(String interfaceName, String command, Log log) {
        this.interfaceName = interfaceName;
        this.fromEnvironment = blankToNull(command);
        this.command = fromEnvironment;
        this.log = log;
        // A hook thread is made by whichever thread posts an event, often a handshake worker at nice 10
        // (Handshakes.WORKER_NICE); on Linux a thread starts with its maker's nice value and a hook's process with
        // its thread's, so hooks ran at nice 10. They run at the nice value of the thread that made this, the
        // daemon's main thread, where the daemon may raise a thread's priority (CAP_SYS_NICE, which root has); at
        // the maker's otherwise, as before.
        int nice = Posix.niceValue();
        this.runners = new ThreadPoolExecutor(MAX_RUNNING, MAX_RUNNING, 10, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_QUEUED), r -> {
                    Thread t = new Thread(() -> {
                        Posix.setNice(nice);
                        r.run();
                    }, "jwg-hook");
                    t.setDaemon(true);
                    return t;
                });
        runners.allowCoreThreadTimeOut(true);
    }

    /** The config's hook (null: it names none, and JWG_HOOK's applies again), for events posted from now on. */
    void configured(String command) {
        String c = blankToNull(command);
        this.command = c != null ? c : fromEnvironment;
    }

    String command() {
        return command;
    }

    /** Runs the hook for this event of peer, later, unless there is no hook. Never blocks. */
    void post(Event event, Key peer, String endpoint, String endpointBefore, String reason) {
        String cmd = command;
        if (cmd == null) {
            return;
        }
        Map<String, String> env = Map.of(
                "JWG_EVENT", event.name().toLowerCase(java.util.Locale.ROOT),
                "JWG_INTERFACE", interfaceName,
                "JWG_PEER", peer.toBase64(),
                "JWG_ENDPOINT", endpoint == null ? "" : endpoint,
                "JWG_ENDPOINT_BEFORE", endpointBefore == null ? "" : endpointBefore,
                "JWG_REASON", reason);
        String what = env.get("JWG_EVENT") + " of peer(" + peer.shortForm() + ")";
        try {
            runners.execute(() -> run(cmd, env, what));
        } catch (RejectedExecutionException full) {
            if (dropped.getAndIncrement() == 0) {
                log.error("hook: " + MAX_QUEUED + " events already wait for " + MAX_RUNNING + " running hooks; dropped "
                        + what + " (and any more until there is room)");
            }
            return;
        }
        int more = dropped.getAndSet(0);
        if (more > 1) {
            log.error("hook: " + (more - 1) + " more events were dropped");
        }
    }

    private void run(String cmd, Map<String, String> env, String what) {
        // The daemon's standard output may still be the pipe to the command that started it: the hook writes to the
        // log instead, both streams.
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", "exec 1>&2; " + cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            log.error("hook for " + what + " did not start: " + e.getMessage());
            return;
        }
        running.add(p);
        try {
            if (!p.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                log.error("hook for " + what + " ran " + TIMEOUT_MS / 1000 + " s; killed");
            } else if (p.exitValue() != 0) {
                log.error("hook for " + what + " exited with " + p.exitValue());
            } else {
                log.verbose("hook for " + what + " done");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            running.remove(p);
        }
    }

    /** The daemon stops: queued events are dropped and running hooks killed, so none outlives it. */
    @Override
    public void close() {
        runners.shutdownNow();
        for (Process p : running) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
