package jwg.tunnel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The UAPI's framing: lines ended by '\n' alone, each at most {@link #MAX_LINE} bytes, read from the socket's byte
 * stream through a fixed buffer. A client can make the daemon hold no more than one line's worth per connection, where
 * a reader that builds whatever line it is sent (BufferedReader, Go's ReadString) keeps a 1 MB line, and a hundred
 * connections keep a hundred.
 *
 * <p>Where the framing differs from what `wg` writes, this reader answers as wireguard-go does, so that a tool that
 * works against one works against the other: an operation line must be exactly "set=1" or "get=1" ("set=1\r" is an
 * unknown operation, and the connection is closed); inside a set, a '\r' before the '\n' is dropped (Go's line
 * scanner does the same), and a line over the limit fails the request with EIO (its scanner's "token too long").
 *
 * <p>Not thread-safe: one connection at a time.
 */
final class UapiReader {
    /** The longest line: 64 KiB less its '\n', what Go's default line scanner takes. */
    static final int MAX_LINE = 65_535;

    private InputStream in;
    private final byte[] buf = new byte[2048];
    private int pos;
    private int end;
    /**
     * The line being read, grown as lines need (to {@link #MAX_LINE} at most): a `wg show` from a monitoring loop
     * every second made 64 KiB of garbage per connection with it allocated whole, most of what a soak's daemon
     * allocated at all.
     */
    private byte[] line = new byte[256];

    UapiReader(InputStream in) {
        this.in = in;
    }

    /**
     * Reads the next connection's requests with this reader's buffers (the UAPI server keeps a few readers for reuse).
     * What the previous one left is wiped first: a set's lines carry keys in hex.
     */
    UapiReader attach(InputStream next) {
        Arrays.fill(buf, (byte) 0);
        if (line.length > 4096) {
            line = new byte[256]; // one long line does not keep 64 KiB held for every later connection
        } else {
            Arrays.fill(line, (byte) 0);
        }
        pos = 0;
        end = 0;
        in = next;
        return this;
    }

    /** A request held in a string (a test's, the start-up training's). */
    static UapiReader of(String text) {
        return new UapiReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The next line without its '\n'; null at the end of the stream (a last line without its '\n' included: the
     * client went away mid-request). A longer line than {@link #MAX_LINE} is read to its end and thrown away, and
     * fails with EIO; the next call reads the line after it.
     */
    String readLine() throws IOException, UapiError {
        int len = 0;
        boolean tooLong = false;
        while (true) {
            if (pos == end && !fill()) {
                return null;
            }
            int nl = pos;
            while (nl < end && buf[nl] != '\n') {
                nl++;
            }
            int take = Math.min(nl - pos, MAX_LINE - len);
            if (len + take > line.length) {
                line = Arrays.copyOf(line, Math.min(MAX_LINE, Math.max(len + take, 2 * line.length)));
            }
            System.arraycopy(buf, pos, line, len, take);
            len += take;
            tooLong |= take < nl - pos;
            pos = nl;
            if (nl < end) {
                pos++;
                break;
            }
        }
        if (tooLong) {
            throw new UapiError(UapiError.EIO, "a line longer than " + MAX_LINE + " bytes");
        }
        return new String(line, 0, len, StandardCharsets.UTF_8);
    }

    /** A line of a set request: as {@link #readLine}, less a '\r' at its end. */
    String readSetLine() throws IOException, UapiError {
        String s = readLine();
        return s != null && s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private boolean fill() throws IOException {
        int n = in.read(buf);
        if (n <= 0) {
            return false;
        }
        pos = 0;
        end = n;
        return true;
    }
}
