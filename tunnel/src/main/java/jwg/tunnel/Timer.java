package jwg.tunnel;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One peer timer with the kernel's mod_timer/del_timer semantics, cheap enough to touch on every packet: mod() and
 * del() mostly just write a deadline. A wake-up is scheduled only when none is pending at or before the new
 * deadline, and a wake-up that finds the deadline moved later sleeps again until then. Deadlines mostly move later
 * (each packet pushes them), so in steady state the scheduler is called about once per timeout, not once per packet.
 *
 * <p>Lock-free: a wake-up owns its slot ({@code wakeAt}) by compare-and-set, so a wake-up superseded by an earlier
 * one does nothing, and a deadline changed while a wake-up runs is never lost.
 */
final class Timer {
    private static final long IDLE = Long.MIN_VALUE;

    private final ScheduledExecutorService scheduler;
    private final Runnable action;
    private final AtomicLong deadline = new AtomicLong(IDLE);
    private final AtomicLong wakeAt = new AtomicLong(IDLE);

    Timer(ScheduledExecutorService scheduler, Runnable action) {
        this.scheduler = scheduler;
        this.action = action;
    }

    /** Fires the action delayNanos from now, replacing any earlier deadline. */
    void mod(long delayNanos) {
        long at = System.nanoTime() + delayNanos;
        deadline.set(at);
        ensureWake(at);
    }

    void del() {
        if (deadline.get() != IDLE) {
            deadline.set(IDLE);
        }
    }

    boolean pending() {
        return deadline.get() != IDLE;
    }

    private void ensureWake(long at) {
        while (true) {
            long w = wakeAt.get();
            if (w != IDLE && w - at <= 0) {
                return;
            }
            if (wakeAt.compareAndSet(w, at)) {
                schedule(at);
                return;
            }
        }
    }

    private void schedule(long at) {
        try {
            scheduler.schedule(() -> wake(at), Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            wakeAt.compareAndSet(at, IDLE);
        }
    }

    private void wake(long scheduledFor) {
        if (!wakeAt.compareAndSet(scheduledFor, IDLE)) {
            return;
        }
        long due = deadline.get();
        if (due == IDLE) {
            return;
        }
        if (due - System.nanoTime() > 0) {
            ensureWake(due);
            return;
        }
        if (deadline.compareAndSet(due, IDLE)) {
            action.run();
        }
    }
}
