package jwg.tunnel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The jwg subcommands' side of the UAPI socket: one request, its reply lines up to errno. */
final class UapiClient {
    /**
     * A reply: its lines before errno, and the errno (0: success; a refusal is negative, -22 for EINVAL, as wg reads
     * it; {@link #NO_ERRNO} if the daemon ended the reply without one).
     */
    record Reply(List<String> lines, int errno) {
        /** Not a value any daemon sends: -1 is a refusal too (EPERM). */
        static final int NO_ERRNO = Integer.MIN_VALUE;
    }

    private UapiClient() {}

    /** Sends request (ending with its blank line) to IFNAME's daemon. */
    static Reply request(String ifname, String request) throws IOException {
        return request(UapiServer.RUN_DIR.resolve(ifname + ".sock"), request);
    }

    /** Sends request (ending with its blank line) to the daemon listening on socket. */
    static Reply request(Path socket, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            OutputStream out = Channels.newOutputStream(ch);
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read(new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new IOException("cannot reach " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Reads a reply up to its errno line, or to the end of in. */
    static Reply read(BufferedReader in) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("errno=")) {
                return new Reply(lines, Integer.parseInt(line.substring(6)));
            }
            lines.add(line);
        }
        return new Reply(lines, Reply.NO_ERRNO);
    }
}
