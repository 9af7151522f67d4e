package jwg.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * The far end of {@link LatencyClient} and {@link FirstReply}: sends every UDP datagram back to where it came from,
 * unchanged, on one thread, until killed. Unchanged matters: each request carries its own send time, so the client
 * needs no table of outstanding requests and the echo does no work beyond the two system calls.
 *
 * <p>Usage: {@code EchoServer PORT}
 */
public final class EchoServer {
    private EchoServer() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "EchoServer PORT");
        int port = Integer.parseInt(args.positional(0));
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(port));
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            while (true) {
                buf.clear();
                SocketAddress from = ch.receive(buf);
                buf.flip();
                ch.send(buf, from);
            }
        }
    }
}
