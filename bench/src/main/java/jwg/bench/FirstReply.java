package jwg.bench;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jwg.tunnel.Json;

/**
 * Cold handshake to first packet: on a tunnel that has never handshaken, the time from sending the first UDP request
 * to an {@link EchoServer} behind it until the first echo comes back. That covers the initiation, the response, the
 * staged request's delivery and its echo. A request is repeated every {@code --every} ms until one is answered (a
 * daemon may drop a packet it cannot stage), and the time is always counted from the very first.
 *
 * <p>Usage: {@code FirstReply HOST:PORT [--every 100] [--timeout 10]}; prints one JSON object.
 */
public final class FirstReply {
    private FirstReply() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "FirstReply HOST:PORT [--every 100] [--timeout 10]");
        InetSocketAddress target = args.address(0);
        long every = (long) (args.number("every", 100) * 1e6);
        long deadline = System.nanoTime() + (long) (args.number("timeout", 10) * 1e9);
        byte[] req = new byte[64];
        byte[] reply = new byte[2048];
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(target);
            int sent = 0;
            long first = System.nanoTime();
            while (System.nanoTime() < deadline) {
                ByteBuffer.wrap(req).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sent);
                long sentAt = System.nanoTime();
                s.send(new DatagramPacket(req, req.length));
                sent++;
                if (awaitReply(s, reply, sentAt + every)) {
                    long now = System.nanoTime();
                    System.out.println(new Json().put("first_reply_ms", (now - first) / 1e6)
                            .put("requests_sent", sent));
                    return;
                }
            }
            System.out.println(new Json().put("first_reply_ms", null).put("requests_sent", sent));
            System.exit(1);
        }
    }

    private static boolean awaitReply(DatagramSocket s, byte[] buf, long until) throws IOException {
        while (true) {
            int ms = (int) Math.max(1, (until - System.nanoTime()) / 1_000_000);
            if (System.nanoTime() >= until) {
                return false;
            }
            s.setSoTimeout(ms);
            try {
                s.receive(new DatagramPacket(buf, buf.length));
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (PortUnreachableException e) {
                // An ICMP error for an earlier request; keep waiting for this one.
            }
        }
    }
}
