package jwg.tunnel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.function.BooleanSupplier;
import jwg.noise.Key;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import jwg.tun.Checksum;
import jwg.tun.Tun;
import jwg.tun.VirtioHeader;

/**
 * A training run: two throw-away devices on loopback UDP (bound to 127.0.0.1 only), each over a socket pair standing
 * in for its TUN device ({@link Tun#pair}, with the virtio header and every offload), configured through the UAPI and
 * carrying packets both ways: the first one's handshake, then UDP over IPv4 and IPv6 and a TCP super-packet to
 * segment and coalesce; rounds after the first may handshake again (both peers removed and added). It needs no
 * privilege and leaves nothing behind. Two uses:
 * <ul>
 * <li>{@code jwg --cds-training}: once per build, bin/jwg records the classes (and lambdas) it loads into the
 * class-data-sharing archive, a's configuration going through a UAPI socket of its own as wg's would. Whatever this
 * leaves out a real daemon loads from the jar on first use: a cold daemon's first packet waited ~10 ms for each
 * lambda the JVM had to spin up then.</li>
 * <li>A daemon's start-up ({@link Daemon}): run in-process, longer, so that the JIT compiles the device's own paths
 * before a real peer needs them.</li>
 * </ul>
 */
final class Training {
    private static final int OFFLOADS = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_USO4
            | Tun.TUN_F_USO6;
    private static final int ROUNDS = 3;
    /** Packets {@link #train} sends per round, each of which should come through. */
    static final int PACKETS = 4;
    private static final int WAIT_MS = 2_000;

    private Training() {}

    static int run() throws Exception {
        Log log = new Log(Log.Level.SILENT, "cds", System.err);
        NettyLog.routeTo(log);
        int carried = train(ROUNDS, 1, log, () -> false, true);
        // Not an error: the archive still holds what loaded. Said for whoever runs it by hand.
        if (carried < ROUNDS * PACKETS) {
            System.err.println("jwg --cds-training: " + carried + " of " + ROUNDS * PACKETS + " packets came through");
        }
        return 0;
    }

    /**
     * The training itself: rounds × {@link #PACKETS} packets, with a new handshake (both peers removed and added
     * again) before each of the first handshakes rounds. Returns how many packets reached the other side. Stops
     * early, before a round, once stop says so, and after the first packet that does not come through, so that a
     * machine whose loopback is down costs one {@link #WAIT_MS}, not one per packet. viaSocket: a's requests go
     * through a UAPI socket of the training's own, as wg's would, rather than straight to a's {@link Uapi}.
     */
    static int train(int rounds, int handshakes, Log log, BooleanSupplier stop, boolean viaSocket)
            throws Exception {
        Tun[] tunA = Tun.pair("cds-a", true, OFFLOADS);
        Tun[] tunB = Tun.pair("cds-b", true, OFFLOADS);
        Device a = new Device("cds-a", tunA[0], log, () -> { });
        Device b = new Device("cds-b", tunB[0], log, () -> { });
        int carried = 0;
        Path uapiDir = null;
        UapiServer uapiServer = null;
        Roaming roamingA = null;
        Roaming roamingB = null;
        try {
            // Roaming as a daemon has it, with a configuration file that does not exist.
            Path noConfig = Path.of(System.getProperty("java.io.tmpdir"), "jwg-cds-training-none.conf");
            roamingA = new Roaming(a, noConfig);
            roamingB = new Roaming(b, noConfig);
            a.bindLoopback();
            b.bindLoopback();
            SecureRandom random = new SecureRandom();
            Key keyA = randomKey(random);
            Key keyB = randomKey(random);
            Uapi uapiA = new Uapi(a, roamingA);
            Uapi uapiB = new Uapi(b, roamingB);
            if (viaSocket) {
                // a through a UAPI socket of its own, as wg would (in a directory of the training's, not wg's).
                uapiDir = Files.createTempDirectory("jwg-cds-training");
                uapiServer = new UapiServer(uapiDir, "cds-a", uapiA, log, () -> { });
                uapiServer.start();
            }
            String configA = config(keyA, keyB, b.udp().port(), 2);
            String configB = config(keyB, keyA, a.udp().port(), 1);
            Thread.ofPlatform().daemon().name("jwg-tun-read").start(a::runTunReader);
            Thread.ofPlatform().daemon().name("jwg-tun-read").start(b::runTunReader);
            ByteBuffer out = ByteBuffer.allocateDirect(Tun.VNET_HDR_LEN + 65_535);
            ByteBuffer in = ByteBuffer.allocateDirect(Tun.VNET_HDR_LEN + 65_535);
            for (int round = 0; round < rounds && !stop.getAsBoolean(); round++) {
                if (round < handshakes) {
                    if (round > 0) {
                        request(uapiServer, uapiA, log, "set=1\n" + removal(keyB) + "\n");
                        uapiB.set(UapiReader.of(removal(keyA) + "\n"));
                    }
                    request(uapiServer, uapiA, log, "set=1\n" + configA);
                    request(uapiServer, uapiA, log, "get=1\n\n");
                    uapiB.set(UapiReader.of(configB));
                }
                int before = carried;
                carried += carry(tunA[1], tunB[1], out, in, udp4(out, 1, 2, 64));
                carried += carry(tunB[1], tunA[1], out, in, udp4(out, 2, 1, 1_000));
                carried += carry(tunA[1], tunB[1], out, in, udp6(out, 1, 2, 200));
                carried += carry(tunA[1], tunB[1], out, in, tcp4Super(out, 1, 2, 1_000, 8, round));
                if (carried - before < PACKETS) {
                    break;
                }
            }
            Warmup.run(1, 2);
            a.udp().warmUp();
            Thread.sleep(100);
        } finally {
            if (uapiServer != null) {
                uapiServer.close();
            }
            if (uapiDir != null) {
                Files.deleteIfExists(uapiDir);
            }
            if (roamingA != null) {
                roamingA.close();
            }
            if (roamingB != null) {
                roamingB.close();
            }
            a.close();
            b.close();
            tunA[1].close();
            tunB[1].close();
        }
        return carried;
    }

    /** The body of a UAPI set giving a device its key and the other as its peer, reached at 127.0.0.1:peerPort. */
    private static String config(Key own, Key peer, int peerPort, int peerHost) {
        String peerPublic = new StaticIdentity(Secret.of(peer.bytes())).publicKey().toHex();
        return "private_key=" + own.toHex() + "\npublic_key=" + peerPublic + "\nendpoint=127.0.0.1:" + peerPort
                + "\nallowed_ip=10.0.0." + peerHost + "/32\nallowed_ip=fd00::" + peerHost
                + "/128\npersistent_keepalive_interval=0\n\n";
    }

    /** The UAPI lines that remove the peer whose private key is given. */
    private static String removal(Key peer) {
        return "public_key=" + new StaticIdentity(Secret.of(peer.bytes())).publicKey().toHex() + "\nremove=true\n";
    }

    /**
     * A UAPI request to a, as wg sends it, answered by the server's own conversation: over its socket where there is
     * one, else in this thread. Throws unless the answer ends in errno=0.
     */
    private static void request(UapiServer server, Uapi uapi, Log log, String request) throws IOException, UapiError {
        UapiClient.Reply reply;
        if (server != null) {
            reply = UapiClient.request(server.path(), request);
        } else {
            StringWriter out = new StringWriter();
            UapiServer.converse(uapi, log, UapiReader.of(request), out);
            reply = UapiClient.read(new BufferedReader(new StringReader(out.toString())));
        }
        if (reply.errno() != 0) {
            // The errno alone: a get's lines hold a private key (the training's own, still).
            throw new IOException("the training's UAPI request failed: "
                    + (reply.errno() == UapiClient.Reply.NO_ERRNO ? "no answer" : "errno=" + reply.errno()));
        }
    }

    /**
     * Writes length bytes of out into the sender's kernel end, then reads what reaches the receiver's kernel end
     * (one packet or a coalesced run of them) within WAIT_MS. 1 if something arrived.
     */
    private static int carry(Tun from, Tun to, ByteBuffer out, ByteBuffer in, int length) throws IOException {
        from.write(Tun.address(out), length);
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (to.awaitReadable(50) && to.read(Tun.address(in), in.capacity()) > 0) {
                while (to.read(Tun.address(in), in.capacity()) > 0) {
                    // the rest of a run that was not coalesced
                }
                return 1;
            }
        }
        return 0;
    }

    /** A virtio header for one plain packet, and an IPv4 UDP packet from 10.0.0.src to 10.0.0.dst. */
    private static int udp4(ByteBuffer b, int src, int dst, int payload) {
        VirtioHeader.put(b, 0, 0, VirtioHeader.GSO_NONE, 0, 0, 0, 0);
        int ip = Tun.VNET_HDR_LEN;
        int length = 20 + 8 + payload;
        ipv4(b, ip, length, 17, src, dst);
        udp(b, ip + 20, 8 + payload);
        return ip + length;
    }

    /** As {@link #udp4}, over IPv6 from fd00::src to fd00::dst. */
    private static int udp6(ByteBuffer b, int src, int dst, int payload) {
        VirtioHeader.put(b, 0, 0, VirtioHeader.GSO_NONE, 0, 0, 0, 0);
        int ip = Tun.VNET_HDR_LEN;
        b.put(ip, (byte) 0x60).put(ip + 1, (byte) 0).putShort(ip + 2, (short) 0);
        b.putShort(ip + 4, (short) (8 + payload)).put(ip + 6, (byte) 17).put(ip + 7, (byte) 64);
        for (int i = 0; i < 32; i++) {
            b.put(ip + 8 + i, (byte) 0);
        }
        b.put(ip + 8, (byte) 0xfd).put(ip + 23, (byte) src).put(ip + 24, (byte) 0xfd).put(ip + 39, (byte) dst);
        udp(b, ip + 40, 8 + payload);
        return ip + 40 + 8 + payload;
    }

    /**
     * A TCP super-packet as the kernel hands one over with TSO: segments × mss bytes behind one IPv4 and TCP header,
     * to be cut into segments (checksums computed) by the sender and merged again by the receiver.
     */
    private static int tcp4Super(ByteBuffer b, int src, int dst, int mss, int segments, int round) {
        int ip = Tun.VNET_HDR_LEN;
        int length = 20 + 20 + mss * segments;
        VirtioHeader.put(b, 0, VirtioHeader.F_NEEDS_CSUM, VirtioHeader.GSO_TCPV4, 40, mss, 20, 16);
        ipv4(b, ip, length, 6, src, dst);
        int tcp = ip + 20;
        b.putShort(tcp, (short) 40_000).putShort(tcp + 2, (short) 5201);
        b.putInt(tcp + 4, 1_000 + round * mss * segments).putInt(tcp + 8, 1);
        b.put(tcp + 12, (byte) 0x50).put(tcp + 13, (byte) 0x18).putShort(tcp + 14, (short) 65_535);
        b.putInt(tcp + 16, 0);
        fill(b, tcp + 20, mss * segments);
        return ip + length;
    }

    private static void ipv4(ByteBuffer b, int at, int length, int protocol, int src, int dst) {
        b.put(at, (byte) 0x45).put(at + 1, (byte) 0).putShort(at + 2, (short) length);
        b.putInt(at + 4, 0x4000).put(at + 8, (byte) 64).put(at + 9, (byte) protocol).putShort(at + 10, (short) 0);
        b.putInt(at + 12, 0x0a000000 | src).putInt(at + 16, 0x0a000000 | dst);
        b.putShort(at + 10, (short) Checksum.finish(Checksum.add(0, b, at, 20)));
    }

    /** A UDP header with no checksum (allowed over IPv4; nothing on this path checks it over IPv6) and a payload. */
    private static void udp(ByteBuffer b, int at, int length) {
        b.putShort(at, (short) 40_000).putShort(at + 2, (short) 9_000).putShort(at + 4, (short) length);
        b.putShort(at + 6, (short) 0);
        fill(b, at + 8, length - 8);
    }

    private static void fill(ByteBuffer b, int at, int length) {
        for (int i = 0; i < length; i++) {
            b.put(at + i, (byte) i);
        }
    }

    private static Key randomKey(SecureRandom random) {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return Key.of(k);
    }
}
