package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NetlinkWatchTest {
    private static final int RTM_NEWLINK = 16;
    private static final int RTM_DELLINK = 17;
    private static final int RTM_NEWADDR = 20;
    private static final int RTM_DELADDR = 21;
    private static final int RTM_NEWROUTE = 24;
    private static final int RTM_DELROUTE = 25;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int AF_BRIDGE = 7;
    private static final int IFF_UP = 0x1;
    private static final int IFF_RUNNING = 0x40;
    private static final int IFF_LOWER_UP = 0x10000;
    private static final int RT_TABLE_COMPAT = 252;
    private static final int RT_TABLE_MAIN = 254;
    private static final int RTN_UNICAST = 1;
    private static final int RTN_LOCAL = 2;
    private static final int RTM_F_CLONED = 0x200;

    /** Netlink messages as the kernel lays them out, in native byte order, several to a datagram. */
    private static final class Datagram {
        private final ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.nativeOrder());
        private int start = -1;

        Datagram message(int type) {
            end();
            start = b.position();
            b.putInt(0).putShort((short) type).putShort((short) 0).putInt(1).putInt(0);
            return this;
        }

        Datagram link(int index, int flags, int change) {
            b.put((byte) 0).put((byte) 0).putShort((short) 1).putInt(index).putInt(flags).putInt(change);
            return this;
        }

        Datagram family(int family) {
            b.put(start + 16, (byte) family);
            return this;
        }

        Datagram address(int family, int prefixLength, int index) {
            b.put((byte) family).put((byte) prefixLength).put((byte) 0x80).put((byte) 0).putInt(index);
            return this;
        }

        Datagram route(int family, int destinationLength, int table, int type, int flags) {
            b.put((byte) family).put((byte) destinationLength).put((byte) 0).put((byte) 0);
            b.put((byte) table).put((byte) 4).put((byte) 0).put((byte) type).putInt(flags);
            return this;
        }

        Datagram ints(int... values) {
            for (int v : values) {
                b.putInt(v);
            }
            return this;
        }

        Datagram attribute(int type, byte[] payload) {
            b.putShort((short) (4 + payload.length)).putShort((short) type).put(payload);
            while (b.position() % 4 != 0) {
                b.put((byte) 0);
            }
            return this;
        }

        Datagram attribute(int type, int value) {
            return attribute(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
        }

        Datagram attribute(int type, String literal) {
            return attribute(type, ip(literal));
        }

        private void end() {
            if (start >= 0) {
                b.putInt(start, b.position() - start);
            }
        }

        ByteBuffer buffer() {
            end();
            start = -1;
            return b.duplicate().order(ByteOrder.nativeOrder()).flip();
        }

        List<String> changes(int ignoredIfIndex) {
            return NetlinkWatch.changes(buffer(), ignoredIfIndex);
        }
    }

    private static byte[] ip(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress(); // a numeric literal: no lookup
        } catch (IOException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    private static Datagram addressMessage(int type, String literal, int prefixLength, int index) {
        int family = literal.contains(":") ? AF_INET6 : AF_INET;
        Datagram d = new Datagram().message(type).address(family, prefixLength, index);
        if (family == AF_INET) {
            d.attribute(2, literal); // IFA_LOCAL
        }
        return d.attribute(1, literal).attribute(3, "eth1\0".getBytes(StandardCharsets.US_ASCII)); // IFA_ADDRESS, label
    }

    private static Datagram defaultRoute(int table, int flags, int outIndex) {
        return new Datagram().message(RTM_NEWROUTE).route(AF_INET, 0, Math.min(table, RT_TABLE_COMPAT), RTN_UNICAST, flags)
                .attribute(15, table) // RTA_TABLE
                .attribute(5, "10.0.2.254") // RTA_GATEWAY
                .attribute(4, outIndex); // RTA_OIF
    }

    private static Datagram linkMessage(int type, int index, int flags, int change, String name) {
        return new Datagram().message(type).link(index, flags, change)
                .attribute(4, 1500) // IFLA_MTU
                .attribute(3, (name + "\0").getBytes(StandardCharsets.US_ASCII)); // IFLA_IFNAME
    }

    @Test
    void anAddressRemoved() {
        assertEquals(List.of("address 10.0.1.1/24 removed (ifindex 3)"),
                addressMessage(RTM_DELADDR, "10.0.1.1", 24, 3).changes(0));
    }

    @Test
    void anIpv6AddressAdded() {
        assertEquals(List.of("address 2001:db8::1/64 added (ifindex 4)"),
                addressMessage(RTM_NEWADDR, "2001:db8::1", 64, 4).changes(0));
    }

    @Test
    void theLocalAddressRatherThanThePeerOfAPointToPointLink() {
        Datagram d = new Datagram().message(RTM_NEWADDR).address(AF_INET, 32, 5)
                .attribute(1, "10.64.0.1") // IFA_ADDRESS: the far end
                .attribute(2, "10.64.0.2"); // IFA_LOCAL: ours
        assertEquals(List.of("address 10.64.0.2/32 added (ifindex 5)"), d.changes(0));
    }

    @Test
    void linkLocalAddressesAreNoChangeOfThePath() {
        assertEquals(List.of(), addressMessage(RTM_NEWADDR, "fe80::1c2b:3ff:fe4d:5e6f", 64, 4).changes(0));
        assertEquals(List.of(), addressMessage(RTM_DELADDR, "febf::1", 64, 4).changes(0));
        // Just past fe80::/10.
        assertEquals(List.of("address fec0::1/64 added (ifindex 4)"),
                addressMessage(RTM_NEWADDR, "fec0::1", 64, 4).changes(0));
    }

    @Test
    void addressesOnTheIgnoredInterfaceAreNot() {
        assertEquals(List.of(), addressMessage(RTM_NEWADDR, "10.8.0.2", 24, 9).changes(9));
        assertEquals(List.of(), addressMessage(RTM_DELADDR, "fd00::2", 64, 9).changes(9));
        assertEquals(List.of("address 10.8.0.2/24 added (ifindex 9)"),
                addressMessage(RTM_NEWADDR, "10.8.0.2", 24, 9).changes(8));
    }

    @Test
    void theDefaultRouteOfTheMainTable() {
        assertEquals(List.of("route default via 10.0.2.254 added (ifindex 4)"),
                defaultRoute(RT_TABLE_MAIN, 0, 4).changes(0));
    }

    @Test
    void wgQuicksFullTunnelTableIsNotTheMainOne() {
        assertEquals(List.of(), defaultRoute(51820, 0, 4).changes(0));
        // The attribute decides, not the byte field, which is what the kernel puts in it for any table.
        Datagram d = new Datagram().message(RTM_NEWROUTE).route(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(15, 51820).attribute(5, "10.0.2.254");
        assertEquals(List.of(), d.changes(0));
    }

    @Test
    void routesThroughTheIgnoredInterfaceAreNot() {
        assertEquals(List.of(), defaultRoute(RT_TABLE_MAIN, 0, 9).changes(9));
    }

    @Test
    void clonedAndNonUnicastRoutesAreNot() {
        assertEquals(List.of(), defaultRoute(RT_TABLE_MAIN, RTM_F_CLONED, 4).changes(0));
        Datagram local = new Datagram().message(RTM_NEWROUTE).route(AF_INET, 32, RT_TABLE_MAIN, RTN_LOCAL, 0)
                .attribute(1, "10.0.2.1").attribute(4, 4);
        assertEquals(List.of(), local.changes(0));
    }

    @Test
    void routesWithADestinationAndIpv6Text() {
        Datagram d = new Datagram()
                .message(RTM_DELROUTE).route(AF_INET, 16, RT_TABLE_MAIN, RTN_UNICAST, 0).attribute(1, "10.9.0.0")
                .message(RTM_NEWROUTE).route(AF_INET6, 64, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(1, "2001:db8:0:0:1::").attribute(5, "fe80::1").attribute(4, 3)
                .message(RTM_NEWROUTE).route(AF_INET6, 0, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(5, "2001:0:0:1:0:0:0:1")
                .message(RTM_NEWROUTE).route(AF_INET6, 128, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(1, "2001:db8:0:1:0:1:0:1")
                .message(RTM_NEWROUTE).route(AF_INET6, 128, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(1, "2001:db8:0:0:1:0:0:1");
        assertEquals(List.of(
                "route 10.9.0.0/16 removed",
                "route 2001:db8:0:0:1::/64 via fe80::1 added (ifindex 3)",
                "route default via 2001:0:0:1::1 added",
                "route 2001:db8:0:1:0:1:0:1/128 added",
                "route 2001:db8::1:0:0:1/128 added"), d.changes(0));
    }

    @Test
    void aLinkThatWentDown() {
        assertEquals(List.of("link eth9 (ifindex 7) down"),
                linkMessage(RTM_NEWLINK, 7, 0x1002, IFF_UP, "eth9").changes(0));
    }

    @Test
    void linksUpNewAndRemoved() {
        int upAndRunning = 0x1003 | IFF_RUNNING | IFF_LOWER_UP;
        assertEquals(List.of("link eth9 (ifindex 7) up"),
                linkMessage(RTM_NEWLINK, 7, upAndRunning, IFF_RUNNING | IFF_LOWER_UP, "eth9").changes(0));
        // Administratively up with no carrier carries nothing.
        assertEquals(List.of("link eth9 (ifindex 7) down"),
                linkMessage(RTM_NEWLINK, 7, 0x1003, IFF_UP, "eth9").changes(0));
        assertEquals(List.of("link wlan0 (ifindex 8) down"),
                linkMessage(RTM_NEWLINK, 8, 0x1002, 0xffffffff, "wlan0").changes(0));
        assertEquals(List.of("link wlan0 (ifindex 8) removed"),
                linkMessage(RTM_DELLINK, 8, 0x1002, 0xffffffff, "wlan0").changes(0));
        assertEquals(List.of("link (ifindex 8) removed"),
                new Datagram().message(RTM_DELLINK).link(8, 0, 0).changes(0));
    }

    @Test
    void linkMessagesThatAreNotAboutThePath() {
        // An MTU or name change: no state flag changed.
        assertEquals(List.of(), linkMessage(RTM_NEWLINK, 7, 0x11043, 0, "eth9").changes(0));
        // A promiscuous-mode change.
        assertEquals(List.of(), linkMessage(RTM_NEWLINK, 7, 0x11143, 0x100, "eth9").changes(0));
        // The daemon's own device.
        assertEquals(List.of(), linkMessage(RTM_NEWLINK, 9, 0x10091, IFF_UP, "wg0").changes(9));
        assertEquals(List.of(), linkMessage(RTM_DELLINK, 9, 0x90, 0xffffffff, "wg0").changes(9));
        // A port leaving a bridge, which the bridge tells as a link removed in its own family.
        assertEquals(List.of(), linkMessage(RTM_DELLINK, 7, 0x11043, 0, "eth9").family(AF_BRIDGE).changes(0));
    }

    @Test
    void aCarrierComingOrGoingIsToldByTheLinksRememberedState() {
        java.util.Map<Integer, Boolean> known = new java.util.HashMap<>(java.util.Map.of(7, true));
        int upAndRunning = 0x1003 | IFF_RUNNING | IFF_LOWER_UP;
        // The carrier goes (no flag in ifi_change, as the kernel sends it): down, by the state remembered.
        assertEquals(List.of("link eth9 (ifindex 7) down"), NetlinkWatch.changes(
                linkMessage(RTM_NEWLINK, 7, 0x1003, 0, "eth9").buffer(), 0, known));
        // The same state again (an MTU change, say): nothing.
        assertEquals(List.of(), NetlinkWatch.changes(linkMessage(RTM_NEWLINK, 7, 0x1003, 0, "eth9").buffer(), 0, known));
        assertEquals(List.of("link eth9 (ifindex 7) up"), NetlinkWatch.changes(
                linkMessage(RTM_NEWLINK, 7, upAndRunning, 0, "eth9").buffer(), 0, known));
        // A link not known yet is only recorded; then its changes count.
        assertEquals(List.of(), NetlinkWatch.changes(linkMessage(RTM_NEWLINK, 5, upAndRunning, 0, "eth5").buffer(), 0,
                known));
        assertEquals(List.of("link eth5 (ifindex 5) down"), NetlinkWatch.changes(
                linkMessage(RTM_NEWLINK, 5, 0x1003, 0, "eth5").buffer(), 0, known));
        assertEquals(List.of("link eth5 (ifindex 5) removed"), NetlinkWatch.changes(
                linkMessage(RTM_DELLINK, 5, 0x1003, 0xffffffff, "eth5").buffer(), 0, known));
        assertEquals(java.util.Map.of(7, true), known);
    }

    @Test
    void anIpv6AddressCountsOnceItIsNoLongerTentative() {
        Datagram tentative = new Datagram().message(RTM_NEWADDR);
        tentative.b.put((byte) AF_INET6).put((byte) 64).put((byte) 0x40).put((byte) 0).putInt(4);
        assertEquals(List.of(), tentative.attribute(1, "2001:db8::9").changes(0));
        assertEquals(List.of("address 2001:db8::9/64 added (ifindex 4)"),
                addressMessage(RTM_NEWADDR, "2001:db8::9", 64, 4).changes(0));
    }

    @Test
    void anUnprintableInterfaceNameStaysOnOneLine() {
        assertEquals(List.of("link bad?name (ifindex 7) removed"),
                linkMessage(RTM_DELLINK, 7, 0, 0, "bad\nname").changes(0));
    }

    private static Datagram twoChanges() {
        Datagram d = new Datagram()
                .message(2).ints(-17, 16, RTM_NEWADDR, 1, 0) // NLMSG_ERROR: EEXIST for a request
                .message(RTM_DELADDR).address(AF_INET, 24, 3).attribute(2, "10.0.1.1").attribute(1, "10.0.1.1")
                .message(28).attribute(1, "10.0.1.254") // RTM_NEWNEIGH: not subscribed to, not read
                .message(RTM_NEWROUTE).route(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, 0)
                .attribute(15, RT_TABLE_MAIN).attribute(5, "10.0.2.254").attribute(4, 4);
        return d.message(1).message(3).ints(0); // NLMSG_NOOP, NLMSG_DONE
    }

    @Test
    void twoMessagesInOneDatagramInOrder() {
        assertEquals(List.of("address 10.0.1.1/24 removed (ifindex 3)", "route default via 10.0.2.254 added (ifindex 4)"),
                twoChanges().changes(0));
    }

    @Test
    void readsFromPositionToLimitAndLeavesThemAlone() {
        ByteBuffer messages = twoChanges().buffer();
        ByteBuffer buf = ByteBuffer.allocate(messages.remaining() + 13).order(ByteOrder.nativeOrder());
        buf.position(5);
        buf.put(messages).limit(buf.position()).position(5);
        assertEquals(2, NetlinkWatch.changes(buf, 0).size());
        assertEquals(5, buf.position());
        assertEquals(buf.capacity() - 8, buf.limit());
    }

    @Test
    void truncatedDatagramsNeverThrowAndYieldOnlyWholeMessages() {
        ByteBuffer whole = twoChanges().buffer();
        List<String> all = NetlinkWatch.changes(whole, 0);
        for (int cut = 0; cut <= whole.remaining(); cut++) {
            ByteBuffer part = whole.duplicate().order(ByteOrder.nativeOrder()).limit(cut);
            List<String> some = assertDoesNotThrow(() -> NetlinkWatch.changes(part, 0), "cut at " + cut);
            assertEquals(all.subList(0, some.size()), some, "cut at " + cut);
        }
    }

    @Test
    void badLengthsEndTheParse() {
        // A message claiming more than the datagram holds.
        ByteBuffer tooLong = addressMessage(RTM_DELADDR, "10.0.1.1", 24, 3).buffer();
        tooLong.putInt(0, tooLong.remaining() + 4);
        assertEquals(List.of(), NetlinkWatch.changes(tooLong, 0));
        // One shorter than its own header, which would otherwise never advance.
        ByteBuffer tooShort = twoChanges().buffer();
        tooShort.putInt(0, 4);
        assertEquals(List.of(), NetlinkWatch.changes(tooShort, 0));
        // An attribute running past its message ends the parse there, later messages included.
        Datagram d = addressMessage(RTM_DELADDR, "10.0.1.1", 24, 3);
        ByteBuffer badAttribute = d.message(RTM_NEWADDR).address(AF_INET, 24, 3).attribute(2, "10.0.1.2")
                .message(RTM_DELADDR).address(AF_INET, 24, 3).attribute(2, "10.0.1.3").buffer();
        int second = badAttribute.getInt(0) + 16 + 8;
        badAttribute.putShort(second, (short) 200);
        assertEquals(List.of("address 10.0.1.1/24 removed (ifindex 3)"), NetlinkWatch.changes(badAttribute, 0));
        // An address of the wrong size for its family says nothing, and the parse goes on.
        Datagram odd = new Datagram().message(RTM_NEWADDR).address(AF_INET, 24, 3).attribute(2, "2001:db8::1")
                .message(RTM_DELADDR).address(AF_INET, 24, 3).attribute(2, "10.0.1.3");
        assertEquals(List.of("address 10.0.1.3/24 removed (ifindex 3)"), odd.changes(0));
    }

    @Test
    void randomBytesNeverThrow() {
        Random random = new Random(51820);
        byte[] template = twoChanges().buffer().array();
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = template.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                bytes[random.nextInt(200)] = (byte) random.nextInt(256);
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes, 0, 200 + random.nextInt(40)).order(ByteOrder.nativeOrder());
            assertDoesNotThrow(() -> NetlinkWatch.changes(buf, 3));
        }
    }

    // ---- Live: the kernel's own messages, from links this test makes and removes (needs root). ----

    private static final List<String> LINKS = List.of("jwgnl0", "jwgnl1", "jwgnl2", "jwgnl3");

    @AfterEach
    void removeLinks() {
        if (isRoot()) {
            for (String link : LINKS) {
                try {
                    run("ip", "link", "del", link);
                } catch (IOException | InterruptedException | AssertionError e) {
                    // Most tests leave none of them.
                }
            }
        }
    }

    @Test
    void aLiveLinkItsAddressesAndARaisingCallback() throws Exception {
        assumeTrue(isRoot(), "needs root: creates a dummy link");
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        NetlinkWatch watch = NetlinkWatch.start(0, description -> {
            seen.add(description);
            throw new IllegalStateException("onChange failing must not end the watch");
        });
        try {
            addLink("jwgnl0");
            String index = ifindex("jwgnl0");
            ip("link", "set", "jwgnl0", "up");
            ip("addr", "add", "198.51.100.77/24", "dev", "jwgnl0");
            ip("addr", "del", "198.51.100.77/24", "dev", "jwgnl0");
            ip("link", "del", "jwgnl0");
            List<String> skipped = new ArrayList<>();
            await(seen, skipped, "link jwgnl0 (ifindex " + index + ") up");
            await(seen, skipped, "address 198.51.100.77/24 added (ifindex " + index + ")");
            await(seen, skipped, "route 198.51.100.0/24 added (ifindex " + index + ")");
            await(seen, skipped, "address 198.51.100.77/24 removed (ifindex " + index + ")");
            await(seen, skipped, "link jwgnl0 (ifindex " + index + ") removed");
        } finally {
            long start = System.nanoTime();
            watch.close();
            watch.close();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 2_500, "close took " + millis + " ms");
        }
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("jwg-netlink") && t.isAlive()), "the thread outlived close()");
    }

    @Test
    void theIgnoredInterfaceIsSilent() throws Exception {
        assumeTrue(isRoot(), "needs root: creates a dummy link");
        addLink("jwgnl1");
        addLink("jwgnl2");
        String ignored = ifindex("jwgnl1");
        String other = ifindex("jwgnl2");
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        try (NetlinkWatch watch = NetlinkWatch.start(Integer.parseInt(ignored), seen::add)) {
            ip("link", "set", "jwgnl1", "up");
            ip("addr", "add", "198.51.100.78/24", "dev", "jwgnl1");
            ip("addr", "del", "198.51.100.78/24", "dev", "jwgnl1");
            ip("link", "set", "jwgnl2", "up");
            ip("addr", "add", "203.0.113.79/24", "dev", "jwgnl2");
            List<String> skipped = new ArrayList<>();
            await(seen, skipped, "address 203.0.113.79/24 added (ifindex " + other + ")");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            for (String s; (s = seen.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS)) != null; ) {
                skipped.add(s);
            }
            for (String s : skipped) {
                assertFalse(s.contains("198.51.100.78") || s.contains("(ifindex " + ignored + ")"), s);
            }
        }
    }

    @Test
    void anOverrunIsReportedAndTheWatchGoesOn() throws Exception {
        assumeTrue(isRoot(), "needs root: creates a dummy link");
        addLink("jwgnl3");
        ip("link", "set", "jwgnl3", "up");
        String index = ifindex("jwgnl3");
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        try (NetlinkWatch watch = NetlinkWatch.start(0, description -> {
            seen.add(description);
            try {
                release.await(); // a slow onChange: the kernel's queue for the socket fills behind it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            // Far more notifications than the socket's default buffer (net.core.rmem_default) holds.
            StringBuilder batch = new StringBuilder();
            for (int round = 0; round < 4; round++) {
                for (int host = 1; host < 255; host++) {
                    batch.append("addr add 198.51.100.").append(host).append("/32 dev jwgnl3\n");
                }
                for (int host = 1; host < 255; host++) {
                    batch.append("addr del 198.51.100.").append(host).append("/32 dev jwgnl3\n");
                }
            }
            runWithInput(batch.toString(), "ip", "-batch", "-");
            release.countDown();
            List<String> skipped = new ArrayList<>();
            await(seen, skipped, NetlinkWatch.EVENTS_LOST);
            // Told only once what was still queued has been read: the kernel drops new notifications, silently,
            // until then, so an earlier report would have the caller look while changes could still go unheard.
            skipped.clear();
            ip("addr", "add", "203.0.113.80/24", "dev", "jwgnl3");
            await(seen, skipped, "address 203.0.113.80/24 added (ifindex " + index + ")");
            for (String s : skipped) {
                assertFalse(s.contains("198.51.100."), "queued before the loss was reported: " + s);
            }
        } finally {
            release.countDown();
        }
    }

    /** Takes descriptions off the queue until this one (keeping the others in skipped); fails after 5 s without it. */
    private static void await(BlockingQueue<String> seen, List<String> skipped, String expected)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (String s; (s = seen.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS)) != null; ) {
            if (s.equals(expected)) {
                return;
            }
            skipped.add(s);
        }
        fail("no \"" + expected + "\" within 5 s; seen before it: " + skipped);
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // the effective uid
                }
            }
        } catch (IOException e) {
            // Not Linux, or no /proc: fall back on the name.
        }
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * A link nothing uses: a dummy, or where the kernel has no dummy driver (as in some CI sandboxes) an ifb, which
     * behaves the same for this purpose (no traffic, carrier always on).
     */
    private static void addLink(String name) throws IOException, InterruptedException {
        Result dummy = exec(null, "ip", "link", "add", name, "type", "dummy");
        if (dummy.code != 0) {
            Result ifb = exec(null, "ip", "link", "add", name, "type", "ifb");
            if (ifb.code != 0) {
                fail("cannot add a dummy link: " + dummy.stderr + "; nor an ifb one: " + ifb.stderr);
            }
        }
    }

    private static String ifindex(String link) throws IOException {
        return Files.readString(Path.of("/sys/class/net", link, "ifindex")).strip();
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 1];
        command[0] = "ip";
        System.arraycopy(args, 0, command, 1, args.length);
        run(command);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        runWithInput(null, command);
    }

    private static void runWithInput(String stdin, String... command) throws IOException, InterruptedException {
        Result result = exec(stdin, command);
        if (result.code != 0) {
            fail(String.join(" ", command) + " exited " + result.code + ": " + result.stderr);
        }
    }

    private record Result(int code, String stderr) {}

    private static Result exec(String stdin, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.US_ASCII));
            }
        }
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in 30 s");
        }
        return new Result(p.exitValue(), stderr);
    }
}
