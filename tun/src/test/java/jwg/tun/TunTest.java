package jwg.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real TUN device: created here, moved into a network namespace of its own (so no traffic touches the host's),
 * answering a real ping, and failing reads once `ip link del` removes it.
 */
class TunTest {
    private static final String NETNS = "jwg-tuntest";
    private static final String IFNAME = "jwgtun0";

    @BeforeEach
    void needRoot() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (System.getenv("CI") != null && !root) {
            throw new IllegalStateException("CI must run the TUN tests as root");
        }
        assumeTrue(root, "needs root: creates a TUN device and a network namespace");
        sh("ip", "netns", "del", NETNS);
        assertEquals(0, sh("ip", "netns", "add", NETNS));
    }

    @AfterEach
    void cleanUp() throws Exception {
        sh("ip", "netns", "del", NETNS);
    }

    @Test
    void aPingThroughTheDeviceIsReadAndItsReplyWrittenBack() throws Exception {
        try (Tun tun = Tun.create(IFNAME)) {
            assertEquals(IFNAME, tun.name());
            tun.setMtu(1420);
            assertEquals(1420, tun.mtu());
            assertTrue(tun.index() > 0);
            assertEquals(0, sh("ip", "link", "set", IFNAME, "netns", NETNS));
            assertEquals(0, sh("ip", "-n", NETNS, "addr", "add", "192.0.2.1/24", "dev", IFNAME));
            assertEquals(0, sh("ip", "-n", NETNS, "link", "set", IFNAME, "up"));

            Process ping = new ProcessBuilder("ip", "netns", "exec", NETNS, "ping", "-c", "1", "-W", "5", "192.0.2.2")
                    .redirectErrorStream(true).start();
            ByteBuffer buf = ByteBuffer.allocateDirect(2048);
            long address = Tun.address(buf);
            int len = readIcmpEcho(tun, address, buf);
            byte[] packet = new byte[len];
            buf.get(0, packet);
            assertEquals(8, packet[20], "ICMP echo request");
            assertTrue(tun.write(address, Icmp.echoReply(packet, buf)));
            assertTrue(ping.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, ping.exitValue(), new String(ping.getInputStream().readAllBytes()));
        }
    }

    @Test
    void readsFailOnceTheInterfaceIsDeleted() throws Exception {
        try (Tun tun = Tun.create(IFNAME)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(2048);
            long address = Tun.address(buf);
            assertEquals(Tun.EMPTY, tun.read(address, buf.capacity()), "nothing queued on a fresh device");
            assertEquals(0, sh("ip", "link", "del", IFNAME));
            assertTrue(tun.awaitReadable(5000), "a vanished device wakes the reader");
            assertThrows(IOException.class, () -> tun.read(address, buf.capacity()));
        }
    }

    /** Skips what the kernel sends on its own when an interface comes up (IPv6 router solicitations, for one). */
    private static int readIcmpEcho(Tun tun, long address, ByteBuffer buf) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (!tun.awaitReadable(1000)) {
                continue;
            }
            int len = tun.read(address, buf.capacity());
            if (len >= 28 && (buf.get(0) >> 4) == 4 && buf.get(9) == 1) {
                return len;
            }
        }
        throw new AssertionError("no ICMP echo request arrived on the TUN device");
    }

    private static int sh(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }
}
