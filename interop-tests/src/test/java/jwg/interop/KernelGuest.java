package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Linux kernel's WireGuard on a machine whose own kernel has none: a QEMU guest (TCG) running Debian's cloud
 * kernel, built once into interop-tests/cache/ by kernel-peer/build-guest.sh and booted by kernel-peer/boot-guest.sh
 * in namespace jwgkvm. The guest's eth0 hangs on bridge br0 there, to which {@link #attach} adds the far end of a
 * test's veth; commands reach a shell the guest serves on a second NIC of its own, through busybox nc.
 *
 * <p>One guest serves the whole test run, because booting costs seconds under TCG: attach resets it between tests.
 * Every command and its output is logged to target/interop-logs/kernel-guest.log, the serial console to
 * kernel-guest.console beside it.
 */
final class KernelGuest implements Host {
    static final String NAMESPACE = "jwgkvm";
    private static final String CONTROL_ADDRESS = "10.98.0.2";
    private static final String CONTROL_PORT = "7777";
    /** Ends the output of every command: the connection itself carries no exit status. */
    private static final String EXIT = "@@exit=";
    private static final Path SCRIPTS = Path.of("kernel-peer").toAbsolutePath();
    private static final Path BUSYBOX = Path.of("cache", "kernel-peer", "busybox").toAbsolutePath();

    private static KernelGuest shared;
    private static Boolean hostHasWireGuard;

    final Netns ns;
    private final long pid;
    private final Path log = Implementation.logFile("kernel-guest");
    private final AtomicInteger files = new AtomicInteger();

    private KernelGuest(Netns ns, long pid) {
        this.ns = ns;
        this.pid = pid;
    }

    /** Whether a kernel peer needs the guest: unless this machine's kernel can make a WireGuard interface itself. */
    static synchronized boolean needed() {
        if (hostHasWireGuard == null) {
            try (Netns probe = new Netns("jwgkprobe")) {
                hostHasWireGuard = probe.exec("ip", "link", "add", "wgkprobe", "type", "wireguard").exit() == 0;
            }
        }
        return !hostHasWireGuard;
    }

    /** The guest of this test run, booted on first use (and again if it died); it is stopped when the JVM exits. */
    static synchronized KernelGuest shared() {
        if (shared == null || !shared.alive()) {
            boolean first = shared == null;
            shared = boot();
            if (first) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    synchronized (KernelGuest.class) {
                        shared.close();
                    }
                }));
            }
        }
        return shared;
    }

    private static KernelGuest boot() {
        Shell.run(List.of(SCRIPTS.resolve("build-guest.sh").toString()), 600).orFail("kernel-peer/build-guest.sh");
        Path console = Implementation.logFile("kernel-guest").resolveSibling("kernel-guest.console");
        Shell.Result boot = Shell.run(List.of(SCRIPTS.resolve("boot-guest.sh").toString(), NAMESPACE,
                console.toString()), 120).orFail("kernel-peer/boot-guest.sh");
        Matcher m = Pattern.compile("pid (\\d+), ready after (\\d+) ms").matcher(boot.out());
        if (!m.find()) {
            throw new AssertionError("kernel-peer/boot-guest.sh said neither pid nor boot time: " + boot.out());
        }
        System.out.println("kernel peer: QEMU guest booted in " + m.group(2) + " ms");
        return new KernelGuest(Netns.adopt(NAMESPACE), Long.parseLong(m.group(1)));
    }

    boolean alive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * Makes the guest a fresh host on the other end of veth (a test's veth end, already in {@link #ns}): no WireGuard
     * interface, nothing left running by earlier tests, and underlay4/24 and underlay6/64 on its eth0.
     */
    void attach(String veth, String underlay4, String underlay6) {
        sh("wg show all; ctl-reset").orFail("reset the kernel guest");   // wg show: the last test's state, for the log
        ns.exec("ip", "link", "set", veth, "master", "br0", "up").orFail("bridge " + veth + " to the kernel guest");
        sh("ip addr add " + underlay4 + "/24 dev eth0 && ip addr add " + underlay6 + "/64 dev eth0")
                .orFail("underlay addresses in the kernel guest");
    }

    @Override
    public String name() {
        return "guest@" + ns.name;
    }

    @Override
    public Shell.Result exec(int timeoutSeconds, String... command) {
        List<String> quoted = new ArrayList<>();
        for (String arg : command) {
            quoted.add("'" + arg.replace("'", "'\\''") + "'");
        }
        return sh(String.join(" ", quoted), timeoutSeconds);
    }

    @Override
    public Shell.Result sh(String script, int timeoutSeconds) {
        Shell.Result result = decode(Shell.run(nc(), encode(script), timeoutSeconds));
        record(script, result.out() + "(exit " + result.exit() + ")");
        return result;
    }

    @Override
    public Shell.Background spawnSh(String script) {
        record(script, "(started in the background)");
        return Shell.start(nc(), encode(script), KernelGuest::decode);
    }

    @Override
    public String keyFile(String key) {
        String path = "/tmp/key" + files.incrementAndGet();
        sh("umask 077 && echo " + key + " > " + path).orFail("key file in the kernel guest");
        return path;
    }

    @Override
    public String tcpReceiveCommand(int port) {
        return "nc -l -p " + port;
    }

    @Override
    public String tcpSendCommand(String address, int port) {
        return "nc " + address + " " + port;   // busybox nc half-closes at the end of its input, like ncat --send-only
    }

    /** Stops the guest (by its pid) and deletes its namespace. */
    void close() {
        Shell.run("kill", Long.toString(pid));
        Shell.eventually(10, () -> !alive());
        ns.close();
    }

    private List<String> nc() {
        return List.of("ip", "netns", "exec", ns.name, BUSYBOX.toString(), "nc", CONTROL_ADDRESS, CONTROL_PORT);
    }

    /** The script in a subshell that cannot read the connection, then its exit status as the last line. */
    private static String encode(String script) {
        return "(\n" + script + "\n) </dev/null\necho " + EXIT + "$?\nexit\n";
    }

    private static Shell.Result decode(Shell.Result raw) {
        int at = raw.out().lastIndexOf(EXIT);
        if (at < 0) {
            return new Shell.Result(raw.exit() == 0 ? -1 : raw.exit(), raw.out() + "\n(no exit status from the guest)");
        }
        int status = Integer.parseInt(raw.out().substring(at + EXIT.length()).trim());
        return new Shell.Result(status, raw.out().substring(0, at));
    }

    private synchronized void record(String script, String outcome) {
        try {
            Files.writeString(log, LocalTime.now() + " $ " + script + "\n" + outcome + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
