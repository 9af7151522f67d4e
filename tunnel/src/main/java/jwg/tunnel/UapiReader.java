package jwg.tunnel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import jwg.noise.Secret;

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
    /** The lines whose values are secrets, key and '=' as readSetLine returns them. */
    private static final String[] SECRET_KEYS = {"private_key=", "preshared_key="};
    /**
     * The secret of the last set line if it was a private_key or preshared_key line whose value is a key, decoded and
     * not taken yet; null otherwise.
     */
    private Secret secret;

    UapiReader(InputStream in) {
        this.in = in;
    }

    /** Reads the next connection's requests with this reader's buffers (the UAPI server keeps a few for reuse). */
    UapiReader attach(InputStream next) {
        pos = 0;
        end = 0;
        in = next;
        return this;
    }

    /** Ends a connection's use of this reader, wiping what it read: a set's lines carry keys in hex. */
    void detach() {
        in = null;
        wipeSecret();
        Arrays.fill(buf, (byte) 0);
        if (line.length > 4096) {
            line = new byte[256]; // one long line does not keep 64 KiB held for every later connection
        } else {
            Arrays.fill(line, (byte) 0);
        }
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
        int len = readLineBytes();
        return len < 0 ? null : new String(line, 0, len, StandardCharsets.UTF_8);
    }

    /**
     * A line of a set request: as {@link #readLine}, less a '\r' at its end. A private_key or preshared_key line is
     * returned as its key and '=' alone: its value is decoded from this reader's bytes into a {@link Secret}, for
     * {@link #takeSecret}, and the bytes are wiped, so the key's hex never becomes a string the collector keeps.
     */
    String readSetLine() throws IOException, UapiError {
        wipeSecret(); // a secret line that was never taken (a refused request) leaves nothing behind
        int len = readLineBytes();
        if (len < 0) {
            return null;
        }
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        for (String key : SECRET_KEYS) {
            if (startsWith(key, len)) {
                try {
                    secret = Secret.fromHex(new Ascii(line, key.length(), len));
                } catch (IllegalArgumentException notHex) {
                    secret = null;
                }
                Arrays.fill(line, 0, len, (byte) 0);
                return key;
            }
        }
        return new String(line, 0, len, StandardCharsets.UTF_8);
    }

    /**
     * The secret of the private_key or preshared_key line {@link #readSetLine} just returned, now the caller's to
     * wipe; EINVAL naming the key (as the parser has it, without '=') if its value was not 64 hex digits.
     */
    Secret takeSecret(String key) throws UapiError {
        Secret s = secret;
        secret = null;
        if (s == null) {
            throw new UapiError(UapiError.EINVAL, "invalid " + key);
        }
        return s;
    }

    private void wipeSecret() {
        if (secret != null) {
            secret.wipe();
            secret = null;
        }
    }

    private boolean startsWith(String key, int len) {
        if (len < key.length()) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            if (line[i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The line's length in {@link #line}, or -1 at the end of the stream. */
    private int readLineBytes() throws IOException, UapiError {
        int len = 0;
        boolean tooLong = false;
        while (true) {
            if (pos == end && !fill()) {
                return -1;
            }
            int nl = pos;
            while (nl < end && buf[nl] != '\n') {
                nl++;
            }
            int take = Math.min(nl - pos, MAX_LINE - len);
            if (len + take > line.length) {
                byte[] grown = Arrays.copyOf(line, Math.min(MAX_LINE, Math.max(len + take, 2 * line.length)));
                Arrays.fill(line, (byte) 0);
                line = grown;
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
        return len;
    }

    /** Bytes as characters one to one, for the hex decoder: a view, not a copy. */
    private record Ascii(byte[] bytes, int from, int to) implements CharSequence {
        @Override
        public int length() {
            return to - from;
        }

        @Override
        public char charAt(int i) {
            return (char) (bytes[from + i] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int stop) {
            return new Ascii(bytes, from + start, from + stop);
        }

        @Override
        public String toString() {
            return "(" + length() + " bytes)"; // never the bytes: they may be a key
        }
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
