package jwg.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The process contract of wireguard-go (xplatform "Interface" section), jwg's too: {@code IMPL IFNAME} returns 0 once
 * the TUN device and the UAPI socket exist, 1 with a message if setup fails; the daemon exits on SIGTERM, when its
 * interface is deleted and when its socket file is deleted. No peer is involved. The first five run for the
 * implementation under test with wireguard-go as the control; the rest, details of jwg's own, for jwg only.
 */
class LifecycleIT {
    private static final Implementation JWG = Implementation.jwg();

    @BeforeAll
    static void tools() {
        Environment.requireWireGuard();
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("start: IMPL IFNAME returns 0 once the TUN device and the socket exist")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void startReturnsZeroOnlyOnceTheTunDeviceAndTheSocketExist(Implementation impl) {
        try (Pair p = Pair.hosts(impl, impl)) {
            Shell.Result start = impl.launch(p.a.ns, p.a.ifname);
            boolean tun = p.a.ns.exec("ip", "link", "show", "dev", p.a.ifname).exit() == 0;
            boolean socket = Files.exists(p.a.socket());

            assertEquals(0, start.exit(), impl + " " + p.a.ifname + " exited " + start.exit() + ": " + start.out());
            assertTrue(tun, impl + " returned 0 but the TUN device " + p.a.ifname + " did not exist yet");
            assertTrue(socket, impl + " returned 0 but " + p.a.socket() + " did not exist yet");
            assertTrue(p.a.alive(), "wg show " + p.a.ifname + " fails right after " + impl + " returned");
            assertEquals(1, p.a.ns.pids().size(), "processes in the namespace (the daemon only): " + p.a.ns.pids());
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("log: with LOG_LEVEL set, the detached daemon logs to the standard error it inherited")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void withLogLevelSetTheDetachedDaemonLogsToTheInheritedStandardError(Implementation impl) {
        try (Pair p = Pair.hosts(impl, impl)) {
            p.a.up();
            Path log = Implementation.logFile(p.a.ifname);
            long before = log.toFile().length();
            // Both log a peer's creation at LOG_LEVEL=verbose, well after the command that started them returned.
            p.a.addPeer(p.b, false, null);
            assertTrue(Shell.eventually(5, () -> log.toFile().length() > before),
                    impl + " logged nothing to " + log + " after a peer was added:\n" + Shell.tail(log));
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("exit: the daemon exits when its interface is deleted")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void theDaemonExitsWhenItsInterfaceIsDeleted(Implementation impl) {
        try (Pair p = Pair.hosts(impl, impl)) {
            p.a.up();
            p.a.ns.exec("ip", "link", "del", "dev", p.a.ifname).orFail("ip link del");
            assertGone(p.a, "its interface was deleted");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("exit: the daemon exits when its socket file is deleted")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void theDaemonExitsWhenItsSocketFileIsDeleted(Implementation impl) throws Exception {
        try (Pair p = Pair.hosts(impl, impl)) {
            p.a.up();
            Files.delete(p.a.socket());
            assertGone(p.a, "its socket file was deleted");
        }
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("exit: the daemon exits on SIGTERM")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void theDaemonExitsOnSigterm(Implementation impl) {
        exitsOn(impl, "TERM");
    }

    @Tag(MatrixReport.TAG)
    @DisplayName("exit: the daemon exits on SIGINT")
    @ParameterizedTest(name = "{0} alone")
    @MethodSource("jwg.interop.Pair#alone")
    void theDaemonExitsOnSigint(Implementation impl) {
        exitsOn(impl, "INT");
    }

    private static void exitsOn(Implementation impl, String signal) {
        try (Pair p = Pair.hosts(impl, impl)) {
            p.a.up();
            List<Long> pids = p.a.ns.pids();
            assertEquals(1, pids.size(), "processes in the namespace (the daemon only): " + pids);
            Shell.run("kill", "-" + signal, pids.get(0).toString()).orFail("kill -" + signal);
            assertGone(p.a, "it got SIG" + signal);
        }
    }

    /**
     * The interface may be moved to another namespace after it was created (wireguard-tools' netns.sh does this
     * with every userspace implementation): the daemon keeps serving it; the UDP socket stays where it was.
     */
    @Test
    void theDaemonKeepsRunningWhenItsInterfaceMovesToAnotherNamespace() throws InterruptedException {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            JWG.start(p.a.ns, p.a.ifname);
            p.a.ns.exec("ip", "link", "set", p.a.ifname, "netns", p.b.ns.name).orFail("ip link set netns");
            // jwg looks at an idle interface once a second: give it a few chances to get this wrong.
            Thread.sleep(3000);

            assertEquals(1, p.a.ns.pids().size(), "the daemon is gone after its interface moved to another namespace");
            assertTrue(p.b.ns.exec("ip", "link", "show", "dev", p.a.ifname).exit() == 0,
                    "the interface is gone from the namespace it moved to");
            assertTrue(p.a.alive(), "wg show fails after the interface moved to another namespace");
            p.b.ns.exec("ip", "addr", "add", p.a.inner4 + "/24", "dev", p.a.ifname).orFail("address in the new namespace");
            p.b.ns.exec("ip", "link", "set", p.a.ifname, "up").orFail("link up in the new namespace");
            Thread.sleep(2000);
            assertTrue(p.a.alive(), "wg show fails once the moved interface is up");
        }
    }

    @Test
    void anInvalidInterfaceNameMakesStartFailWithExit1AndAMessage() {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            String name = p.a.ifname + "-name-too-long";
            assertTrue(name.length() >= 16, name + " must be too long for IFNAMSIZ (16 with the NUL)");

            Shell.Result start = JWG.launch(p.a.ns, name);

            assertEquals(1, start.exit(), "jwg " + name + " exit status; output: " + start.out());
            assertTrue(start.out().contains(name), "jwg's message does not name the interface: " + start.out());
            assertTrue(Shell.eventually(10, () -> p.a.ns.pids().isEmpty()),
                    "processes left in the namespace: " + p.a.ns.pids());
            assertFalse(Files.exists(p.a.socket().resolveSibling(name + ".sock")), "a socket file was left behind");
        }
    }

    /**
     * bin/jwg waits for the daemon's answer on a pipe from its standard output, where the JVM may write too (an option
     * given in JWG_JAVA_OPTS): that line once was taken for the answer, the start returned 1, and the daemon ran on.
     */
    @Test
    void aJvmOptionThatPrintsToStandardOutputNeitherFailsTheStartNorOrphansTheDaemon() {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            List<String> command = new java.util.ArrayList<>(List.of("env",
                    "JWG_JAVA_OPTS=-XX:CompileCommand=MemStat,jwg.noise.Poly1305Vector::blocks"));
            command.addAll(JWG.command());
            command.add(p.a.ifname);

            Shell.Result start = p.a.ns.exec(30, command.toArray(String[]::new));

            assertEquals(0, start.exit(), "exit status; output: " + start.out());
            assertTrue(start.out().contains("CompileCommand"), "the JVM's line was not passed on: " + start.out());
            assertTrue(p.a.alive(), "the daemon does not answer after a start that returned 0");
        }
    }

    @Test
    void aNameTakenByARunningDaemonMakesASecondStartFailAndLeavesTheFirstRunning() {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            List<Long> first = p.a.ns.pids();

            Shell.Result again = JWG.launch(p.a.ns, p.a.ifname);

            assertEquals(1, again.exit(), "a second jwg " + p.a.ifname + " exit status; output: " + again.out());
            assertTrue(again.out().contains("jwg: " + p.a.ifname), "no message from the second start: " + again.out());
            assertTrue(Shell.eventually(10, () -> p.a.ns.pids().equals(first)),
                    "processes in the namespace after the second start: " + p.a.ns.pids() + ", before: " + first);
            assertTrue(p.a.alive(), "the first daemon no longer answers after a second start with its name");
        }
    }

    @Test
    void aSocketTakenByADaemonInAnotherNamespaceMakesASecondStartFailAndLeavesTheFirstRunning() {
        try (Pair p = Pair.hosts(JWG, JWG)) {
            p.a.up();
            List<Long> first = p.a.ns.pids();

            // The same interface name in b's namespace: the TUN can be created there, the socket path is shared.
            Shell.Result again = JWG.launch(p.b.ns, p.a.ifname);

            assertEquals(1, again.exit(), "jwg " + p.a.ifname + " in another namespace: exit status; output: "
                    + again.out());
            assertTrue(Shell.eventually(10, () -> p.b.ns.pids().isEmpty()),
                    "processes left in the second namespace: " + p.b.ns.pids());
            assertEquals(first, p.a.ns.pids(), "the first daemon's process");
            assertTrue(Files.exists(p.a.socket()), "the first daemon's socket file is gone");
            assertTrue(p.a.alive(), "the first daemon no longer answers after a second start with its name");
        }
    }

    private static void assertGone(Node node, String because) {
        assertTrue(Shell.eventually(10, () -> node.ns.pids().isEmpty()),
                "the daemon still runs 10 s after " + because + ": pids " + node.ns.pids());
        assertFalse(Files.exists(node.socket()), "the socket file is still there after " + because);
        assertFalse(node.ns.exec("ip", "link", "show", "dev", node.ifname).exit() == 0,
                "the interface still exists after " + because);
    }
}
