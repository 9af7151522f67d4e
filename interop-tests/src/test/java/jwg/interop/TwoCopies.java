package jwg.interop;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jwg.noise.CookieGenerator;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;

/**
 * A child process for {@link TwoCopiesIT}, run in a's namespace: sends one handshake initiation (jwg's
 * {@link Handshake}, as peer a) to several addresses of b at once, N times. The first answer to each is taken; a second
 * must be recognised as a further answer ({@link Handshake#furtherAnswer}, what the device acts on). To find which
 * of the two sessions b kept, a twin handshake made the same initiation (same ephemeral key and timestamp) and takes
 * the second answer, and an ICMP echo goes on each session, the later answer's first.
 *
 * <p>Usage: TwoCopies B_PUBLIC_BASE64 A_PRIVATE_BASE64 N A_INNER4 B_INNER4 ADDRESS:PORT.... Prints one
 * line: {@code initiations N answered A doubled D recognised R kept_later L kept_first F kept_neither X}
 * (doubled: answered more than once; recognised: jwg's handshake found the second answer authentic).
 */
public final class TwoCopies {
    /** wireguard-go and the kernel take one initiation per peer per 20 ms; each probe waits longer. */
    private static final long SPACING_NANOS = 60_000_000L;
    private static final long ANSWER_WAIT_NANOS = 40_000_000L;
    private static final long PING_WAIT_NANOS = 300_000_000L;

    private TwoCopies() {}

    public static void main(String[] args) throws Exception {
        Key peer = Key.fromBase64(args[0]);
        StaticIdentity me = new StaticIdentity(Secret.of(java.util.Base64.getDecoder().decode(args[1])));
        int n = Integer.parseInt(args[2]);
        byte[] from = java.net.InetAddress.getByName(args[3]).getAddress();
        byte[] to = java.net.InetAddress.getByName(args[4]).getAddress();
        List<InetSocketAddress> targets = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            int colon = args[i].lastIndexOf(':');
            targets.add(new InetSocketAddress(args[i].substring(0, colon),
                    Integer.parseInt(args[i].substring(colon + 1))));
        }
        Handshake handshake = new Handshake(me, peer);
        Handshake twin = new Handshake(me, peer);
        CookieGenerator macs = new CookieGenerator(peer);
        SecureRandom random = new SecureRandom();
        int answered = 0;
        int doubled = 0;
        int recognised = 0;
        int keptLater = 0;
        int keptFirst = 0;
        int keptNeither = 0;
        byte[] buf = new byte[2048];
        try (DatagramSocket socket = new DatagramSocket(0)) {
            socket.setSoTimeout(5);
            for (int i = 0; i < n; i++) {
                long start = System.nanoTime();
                int index = 0x10000 + i;
                byte[] initiation = new byte[Message.INITIATION_LEN];
                byte[] ephemeral = new byte[32];
                random.nextBytes(ephemeral);
                byte[] timestamp = jwg.noise.Tai64n.ofEpochNanos(System.currentTimeMillis() * 1_000_000L);
                handshake.createInitiation(initiation, 0, index, ephemeral, timestamp);
                twin.createInitiation(new byte[Message.INITIATION_LEN], 0, index, ephemeral, timestamp);
                macs.addMacs(initiation, 0, initiation.length, start);
                for (InetSocketAddress t : targets) {
                    socket.send(new DatagramPacket(initiation, initiation.length, t));
                }
                List<Keypair> sessions = new ArrayList<>();
                int answers = 0;
                boolean furtherRecognised = false;
                while (System.nanoTime() - start < ANSWER_WAIT_NANOS) {
                    int length = receive(socket, buf);
                    if (length == Message.RESPONSE_LEN && buf[0] == Message.RESPONSE
                            && Message.getInt(buf, Message.RESPONSE_RECEIVER) == index) {
                        answers++;
                        if (answers == 1 && handshake.consumeResponse(buf, 0).isOk()) {
                            sessions.add(handshake.deriveKeypair(System.nanoTime()));
                        } else if (answers == 2) {
                            furtherRecognised = handshake.furtherAnswer(buf, 0).isOk();
                            if (twin.consumeResponse(buf, 0).isOk()) {
                                sessions.add(twin.deriveKeypair(System.nanoTime()));
                            }
                        }
                    }
                }
                answered += answers == 0 ? 0 : 1;
                doubled += answers >= 2 ? 1 : 0;
                recognised += furtherRecognised ? 1 : 0;
                if (sessions.size() == 2) {
                    if (echoed(socket, sessions.get(sessions.size() - 1), targets.get(0), from, to, buf)) {
                        keptLater++;
                    } else if (echoed(socket, sessions.get(0), targets.get(0), from, to, buf)) {
                        keptFirst++;
                    } else {
                        keptNeither++;
                    }
                }
                handshake.closeAnswers();
                twin.clear();
                long rest = SPACING_NANOS - (System.nanoTime() - start);
                if (rest > 0) {
                    Thread.sleep(rest / 1_000_000L, (int) (rest % 1_000_000L));
                }
            }
        }
        System.out.println("initiations " + n + " answered " + answered + " doubled " + doubled + " recognised "
                + recognised + " kept_later " + keptLater + " kept_first " + keptFirst + " kept_neither "
                + keptNeither);
    }

    /** An ICMP echo request from → to on kp (b confirms kp if it holds it); whether a reply opened on kp. */
    private static boolean echoed(DatagramSocket socket, Keypair kp, InetSocketAddress target, byte[] from, byte[] to,
                                  byte[] buf) throws Exception {
        byte[] ip = new byte[28];
        ip[0] = 0x45;
        ip[3] = 28;
        ip[8] = 64;
        ip[9] = 1;
        System.arraycopy(from, 0, ip, 12, 4);
        System.arraycopy(to, 0, ip, 16, 4);
        put16(ip, 10, checksum(ip, 0, 20));
        ip[20] = 8;
        ip[24] = 0x4a;
        ip[27] = 1;
        put16(ip, 22, checksum(ip, 20, 8));
        byte[] out = new byte[Keypair.sealedLength(ip.length, 1420)];
        System.arraycopy(ip, 0, out, Message.TRANSPORT_HEADER_LEN, ip.length);
        int length = kp.seal(out, 0, ip.length, 1420);
        socket.send(new DatagramPacket(out, length, target));
        long start = System.nanoTime();
        while (System.nanoTime() - start < PING_WAIT_NANOS) {
            int received = receive(socket, buf);
            if (received > 0 && buf[0] == Message.TRANSPORT) {
                byte[] m = Arrays.copyOf(buf, received);
                if (kp.open(m, 0, m.length) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The next datagram into buf: its length, or -1 if none came within the socket's timeout. */
    private static int receive(DatagramSocket socket, byte[] buf) throws java.io.IOException {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(p);
            return p.getLength();
        } catch (SocketTimeoutException e) {
            return -1;
        }
    }

    private static int checksum(byte[] b, int off, int len) {
        int sum = 0;
        for (int i = off; i < off + len; i += 2) {
            sum += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return ~sum & 0xffff;
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }
}
