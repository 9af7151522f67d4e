package jwg.tunnel;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import jwg.noise.Protocol;
import jwg.tun.Tun;

/**
 * {@code jwg [-f] IFNAME}, with wireguard-go's process contract: create the TUN device and the UAPI socket, then run
 * detached; the command returns 0 only once both exist (1, with the reason, if setup fails). Java cannot fork: bin/jwg
 * starts the one JVM in the background with JWG_NOTIFY_PARENT set and its standard output on a pipe, and this class
 * leaves the terminal's session and writes "ready" (or the reason) there. Started any other way ({@code java -jar}),
 * the command starts a second JVM in that role itself and waits for its line. The daemon exits on SIGTERM/SIGINT, when
 * the interface is deleted, and when its socket file is deleted.
 */
final class Daemon {
    private static final String NOTIFY_ENV = "JWG_NOTIFY_PARENT";
    private static final String READY = "ready";
    private static final int TRAINING_ROUNDS = 200;
    private static final int TRAINING_HANDSHAKES = 50;

    private Daemon() {}

    static int start(String ifname, boolean foreground) throws IOException {
        if (foreground || "1".equals(System.getenv("WG_PROCESS_FOREGROUND"))) {
            return runHere(ifname, System.getenv(NOTIFY_ENV) != null);
        }
        return spawnDetached(ifname);
    }

    private static int spawnDetached(String ifname) throws IOException {
        ProcessHandle.Info self = ProcessHandle.current().info();
        List<String> command = new ArrayList<>();
        command.add(self.command().orElse("java"));
        command.addAll(List.of(self.arguments().orElse(new String[0])));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("WG_PROCESS_FOREGROUND", "1");
        pb.environment().put(NOTIFY_ENV, "1");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // wireguard-go's child logs to the inherited output only when LOG_LEVEL asks for logging.
        boolean logging = System.getenv("LOG_LEVEL") != null && !"silent".equals(System.getenv("LOG_LEVEL"));
        pb.redirectError(logging ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.DISCARD);
        Process child = pb.start();
        try (BufferedReader status = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = status.readLine();
            if (READY.equals(line)) {
                return 0;
            }
            System.err.println(line != null ? line : "jwg: the daemon exited during setup");
            return 1;
        }
    }

    private static int runHere(String ifname, boolean notifyParent) {
        PrintStream notify = System.out;
        if (notifyParent) {
            Posix.detachFromTerminal();
            System.setOut(System.err);
        }
        // UTF-8 whatever the locale (a daemon often runs without one): peer names carry an ellipsis.
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        Log log = new Log(Log.levelOf(System.getenv("LOG_LEVEL")), Log.formatOf(System.getenv("JWG_LOG_FORMAT")),
                ifname, err);
        NettyLog.routeTo(log);
        CountDownLatch done = new CountDownLatch(1);
        Posix.exitOnInterrupt();
        // Registered before anything exists, so a signal during setup still removes what setup made.
        AtomicReference<Device> device = new AtomicReference<>();
        AtomicReference<UapiServer> uapiServer = new AtomicReference<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (uapiServer.get() != null) {
                uapiServer.get().close();
            }
            if (device.get() != null) {
                device.get().close();
            }
        }, "jwg-shutdown"));
        try {
            long t0 = System.nanoTime();
            Tun tun = Tun.create(ifname, Device.offloadsWanted());
            long t1 = System.nanoTime();
            log.verbose("AEAD: " + jwg.noise.ChaCha20Poly1305.implementation());
            if (Device.offloadsWanted() && (tun.offloads() & Tun.TUN_F_TSO4) == 0) {
                log.info("TUN offloads: " + tun.describeOffloads() + "; packets are read and written one by one");
            } else {
                log.verbose("TUN offloads: " + tun.describeOffloads());
            }
            try {
                tun.setMtu(Protocol.DEFAULT_MTU);
            } catch (IOException e) {
                log.error("setting MTU " + Protocol.DEFAULT_MTU + ": " + e.getMessage());
            }
            device.set(new Device(tun.name(), tun, log, done::countDown));
            device.get().bind(0, 0);
            device.get().setHooks(new Hooks(tun.name(), System.getenv("JWG_HOOK"), log));
            Roaming roaming = new Roaming(device.get(), Roaming.configFor(tun.name()));
            String metrics = System.getenv("JWG_METRICS");
            if (metrics != null && !metrics.isBlank()) {
                device.get().setMetrics(Metrics.start(device.get(), roaming, metrics.strip()));
            }
            uapiServer.set(new UapiServer(tun.name(), new Uapi(device.get(), roaming), log, device.get()::close));
            uapiServer.get().start();
            long t2 = System.nanoTime();
            long jvm = ProcessHandle.current().info().startInstant()
                    .map(i -> Duration.between(i, Instant.now()).toMillis()).orElse(-1L);
            log.verbose("device started: TUN " + (t1 - t0) / 1_000_000 + " ms, device and UAPI socket "
                    + (t2 - t1) / 1_000_000 + " ms, " + jvm + " ms since the process started");
        } catch (IOException | RuntimeException e) {
            String why = "jwg: " + ifname + ": " + e.getMessage();
            // The launching parent prints what the child reports; printing it here too would show it twice.
            notify.println(why);
            notify.flush();
            if (!notifyParent) {
                System.err.println(why);
            }
            return 1;
        }
        if (notifyParent) {
            notify.println(READY);
            notify.flush();
            notify.close();
        }
        Thread reader = Thread.ofPlatform().name("jwg-tun-read").start(device.get()::runTunReader);
        device.get().udp().warmUp();
        // At nice 19: the JVM's own thread priorities are no-ops on Linux, and at the default the warm-up took the CPU
        // from whatever started next to it (bench/compare's second daemon took 300-460 ms to start instead of ~190).
        Thread warmup = new Thread(() -> {
            Posix.lowestPriority();
            Warmup.run(40, 20_000);
            // No full collection after the warm-up (there was one from a49f5cf to 21c685e): its own allocations
            // already set off the young collections that move start-up's ~3 MB of live objects out of the young
            // generation (-Xlog:gc, a tunnel's two daemons: 5M->3M at 0.2-0.5 s, 7M->3M at 1.0-1.6 s, 4-6 ms each), so
            // the full one found nothing to free (3M->3M) and paused 20-37 ms on an idle pair, 74 ms in CI's
            // bench/soak where traffic had just begun. One young collection instead, for the warm-up's last garbage,
            // in the first 100 ms without traffic (a ping right after start is usual) within 30 s: the next traffic
            // would otherwise pay for it. Not into flowing traffic, which may not allocate enough to need one for
            // minutes.
            boolean quiet = quietWithin(device.get(), 100, 30_000);
            log.verbose("warm-up done; " + (!quiet ? "no quiet moment, no young collection"
                    : Warmup.collectYoungGeneration(32 << 20) ? "young collection" : "no young collection in 32 MB"));
            // After a whole training, while the device is still idle, one full collection for what the training's
            // young collections moved to the old generation; not after one cut short by traffic, which the pause
            // would hit (what it left is garbage, which a young collection does not copy).
            if (train(device.get(), log)) {
                System.gc();
            }
        }, "jwg-warmup");
        warmup.setDaemon(true);
        warmup.start();
        // At the normal priority: it runs while traffic flows, and at nice 19 under a transfer on 2 cores it had not
        // finished a minute later (the TCP that wanted the lanes ran without them; the latency run after it, with
        // their garbage).
        Thread lanes = new Thread(() -> {
            try {
                Warmup.vectorLanesOnceBusy();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "jwg-lanes");
        lanes.setDaemon(true);
        lanes.start();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        uapiServer.get().close();
        log.verbose("device closed");
        reader.interrupt();
        return 0;
    }

    /**
     * Waits until the device has carried nothing for {@code quietMillis}; false if none came within {@code maxMillis}
     * (by the clock: a nice-19 thread's sleeps overrun on a busy machine) or the thread was interrupted (nothing
     * interrupts the warm-up thread; the daemon's exit ends it).
     */
    private static boolean quietWithin(Device device, long quietMillis, long maxMillis) {
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        try {
            while (System.nanoTime() - deadline < 0) {
                long before = device.activity();
                Thread.sleep(quietMillis);
                if (device.activity() == before) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * The start-up training ({@link Training}) in this process, on the warm-up's low-priority thread (whose nice value
     * the training's threads inherit), when JWG_TRAINING is "on" and the device carries no traffic yet; true if it
     * ran to its end with the device still idle. Off by default, for 7-8 MiB of idle RSS and no gain in TCP from cold
     * (with it done before the traffic, the first 5 s made 2,088-2,565 Mbit/s against 2,408-3,025 without, 3 runs
     * each: the packet path compiled first for its few packets, then again). Its suspected cost to goodput under an
     * unlimited UDP flood did not show in 3 rounds of bench/overload (714 against 691 Mbit/s). Two throw-away
     * devices on loopback handshake {@link #TRAINING_HANDSHAKES} times and carry {@link #TRAINING_ROUNDS} × 4
     * packets in ~1.3 s of one core, so that the JIT has compiled the device's own paths (routing, handshake messages,
     * sessions, the TUN and UDP loops, the UAPI), which {@link Warmup} does not reach, before a real peer needs them.
     * Measured on 2 cores, both daemons of a tunnel started, then 4 s idle:
     * <ul>
     * <li>first ping through the tunnel 19.5-38.5 ms without (median 31), 5.5-10 with (median 6.8); wireguard-go
     * 1.5-2.2;</li>
     * <li>a new handshake (peers removed and added again, then a ping) 4.4-21.5 ms without (median ~11), 2.7-12 with
     * (median 3.3); wireguard-go ~1.5;</li>
     * <li>RSS idle 60.5-65 MiB without, 68-69 with: the old generation's pages that the training's objects passed
     * through stay resident after the collection (100 rounds and 20 handshakes: +4 MiB, a less steady first ping;
     * 60 and 10: +2 MiB, first ping 11-22 ms).</li>
     * </ul>
     * It gives way at the device's first traffic, before its next round: a ping right after both daemons started
     * arrives while the JIT and two warm-ups share the 2 cores, with or without the training (8 runs each: 17-230 ms
     * without, 54-177 with; too noisy to tell apart).
     */
    private static boolean train(Device device, Log log) {
        if (!"on".equals(System.getenv("JWG_TRAINING"))) {
            return false;
        }
        BooleanSupplier traffic = () -> device.activity() != 0;
        if (traffic.getAsBoolean()) {
            return false;
        }
        long t0 = System.nanoTime();
        try {
            int packets = Training.train(TRAINING_ROUNDS, TRAINING_HANDSHAKES, new Log(Log.Level.SILENT, "training",
                    System.err), traffic, false);
            log.verbose("start-up training: " + packets + " packets in " + (System.nanoTime() - t0) / 1_000_000
                    + " ms");
            return !traffic.getAsBoolean();
        } catch (Exception e) {
            log.verbose("start-up training failed: " + e);
            return false;
        }
    }
}
