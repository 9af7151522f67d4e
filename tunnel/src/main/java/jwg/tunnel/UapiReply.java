package jwg.tunnel;

import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A UAPI connection's replies on their way to the socket, UTF-8 encoded through buffers kept from one connection to
 * the next. The JDK's channel writer makes a new encoder and new buffers per connection: with the reader's buffer and
 * the reply's string that was ~20 KB of garbage per `wg show`, and a monitoring loop asking once a second filled the
 * young generation every ~3.5 minutes, the only collections a loaded daemon still had (one of 21.7 ms in a soak on
 * two busy cores). Text is written straight into the buffer: no string of the whole reply is built.
 *
 * <p>A get's reply carries the private and preshared keys in hex. Both buffers are wiped each time a reply is
 * flushed, so the digits last no longer than the reply is in flight.
 *
 * <p>Not thread-safe: one connection uses it at a time, {@link #attach} to {@link #detach}.
 */
final class UapiReply extends Writer {
    /** Characters gathered before they are encoded and sent: several peers' worth of a get per write. */
    static final int CHARS = 2048;

    private final char[] chars = new char[CHARS];
    private final CharBuffer pending = CharBuffer.wrap(chars);
    /** Three bytes per character at most in UTF-8 (a surrogate pair's four bytes are two characters'). */
    private final byte[] bytes = new byte[3 * CHARS];
    private final ByteBuffer encoded = ByteBuffer.wrap(bytes);
    private final CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private WritableByteChannel channel;

    /** Starts a connection's replies; what an earlier connection left unflushed is discarded. */
    UapiReply attach(WritableByteChannel channel) {
        this.channel = channel;
        pending.clear();
        encoded.clear();
        encoder.reset();
        return this;
    }

    /** Ends the connection's use of this writer, wiping anything it did not flush. */
    void detach() {
        channel = null;
        wipe();
    }

    @Override
    public void write(int c) throws IOException {
        if (!pending.hasRemaining()) {
            encode(false);
        }
        pending.put((char) c);
    }

    @Override
    public void write(char[] cbuf, int off, int len) throws IOException {
        while (len > 0) {
            if (!pending.hasRemaining()) {
                encode(false);
            }
            int n = Math.min(len, pending.remaining());
            pending.put(cbuf, off, n);
            off += n;
            len -= n;
        }
    }

    @Override
    public void write(String s, int off, int len) throws IOException {
        while (len > 0) {
            if (!pending.hasRemaining()) {
                encode(false);
            }
            int n = Math.min(len, pending.remaining());
            pending.put(s, off, off + n);
            off += n;
            len -= n;
        }
    }

    /** Without the base class's detour through a string, so that appending a builder or a buffer costs nothing. */
    @Override
    public Writer append(CharSequence csq) throws IOException {
        if (csq instanceof String s) {
            write(s, 0, s.length());
        } else {
            CharSequence text = csq == null ? "null" : csq;
            for (int i = 0; i < text.length(); i++) {
                write(text.charAt(i));
            }
        }
        return this;
    }

    @Override
    public Writer append(char c) throws IOException {
        write(c);
        return this;
    }

    /** Ends a reply: encodes and sends everything written, then wipes both buffers. */
    @Override
    public void flush() throws IOException {
        encode(true);
        while (encoder.flush(encoded).isOverflow()) {
            send();
        }
        send();
        encoder.reset();
        wipe();
    }

    @Override
    public void close() throws IOException {
        flush();
    }

    /**
     * Encodes the pending characters into the byte buffer, sending it whenever it fills. Before the end of a reply a
     * high surrogate whose pair has not been written yet stays pending.
     */
    private void encode(boolean endOfReply) throws IOException {
        pending.flip();
        while (true) {
            CoderResult r = encoder.encode(pending, encoded, endOfReply);
            if (!r.isOverflow()) {
                break;
            }
            send();
        }
        pending.compact();
    }

    private void send() throws IOException {
        if (channel == null) {
            throw new IOException("the UAPI reply has no connection");
        }
        encoded.flip();
        while (encoded.hasRemaining()) {
            channel.write(encoded);
        }
        encoded.clear();
    }

    private void wipe() {
        Arrays.fill(chars, '\0');
        Arrays.fill(bytes, (byte) 0);
        pending.clear();
        encoded.clear();
    }
}
