package jwg.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jwg.noise.Aead;
import jwg.noise.Message;
import jwg.tunnel.Json;

/**
 * Garbage at a WireGuard port, as an attacker who can see the tunnel's traffic would send it: every datagram one a
 * peer must drop without a reply and without harm to its tunnel. bench/garbage measures a tunnel's pings around it.
 *
 * <p>The mix, in sixteenths of the datagrams sent, interleaved:
 * <ul>
 *   <li>4 random: random bytes, of a random length from 1 to 1472 (the most a 1500-byte underlay carries whole);
 *   <li>4 WireGuard-shaped, one of each type: the type byte, zero reserved bytes and the exact length of an
 *       initiation (148), a response (92) or a cookie reply (64), or of a transport message (32 + 16k, up to 1472),
 *       random otherwise, receiver indices included;
 *   <li>3 flipped: a datagram captured on its way to the target, with 1 to 4 of its bytes changed;
 *   <li>3 broken tags: a captured transport message, so a receiver index the target knows, with a counter ahead of
 *       anything the target has seen (no replay window can turn it away early) and a tag byte changed: the
 *       costliest garbage, a whole AEAD open each that fails;
 *   <li>2 replayed: a captured transport message as it was, its counter one the target has seen.
 * </ul>
 * Without {@code --captured} only the first two kinds are sent, half each. The capture is a text file, one datagram
 * a line in hex, as the target's socket received them (bench/garbage writes it).
 *
 * <p>From many sources (every address given, each with {@code --ports} sockets), for {@code --seconds}, as fast as
 * one thread can or at {@code --rate} datagrams/s. Usage: {@code GarbageStorm HOST:PORT --sources A,B,...
 * [--captured FILE] [--ports 64] [--seconds 60] [--rate 80000]}; prints one JSON object, with how many of each kind
 * went out and whatever came back (nothing should); says "garbage: sending" on standard error as it begins.
 */
public final class GarbageStorm {
    private static final int POOL = 8192;
    private static final int MAX_LEN = 1500 - 20 - 8;
    /** How far ahead of the captured counter a broken-tag message's counter goes. */
    private static final long AHEAD = 1 << 24;

    private enum Kind {
        RANDOM(4, false),
        INITIATION_SHAPED(1, false),
        RESPONSE_SHAPED(1, false),
        COOKIE_REPLY_SHAPED(1, false),
        TRANSPORT_SHAPED(1, false),
        FLIPPED(3, true),
        BROKEN_TAG(3, true),
        REPLAYED(2, true);

        final int sixteenths;
        final boolean fromCapture;

        Kind(int sixteenths, boolean fromCapture) {
            this.sixteenths = sixteenths;
            this.fromCapture = fromCapture;
        }
    }

    private final SplittableRandom random = new SplittableRandom(11);
    private final List<byte[]> captured;
    private final List<byte[]> transport = new ArrayList<>();

    private GarbageStorm(List<byte[]> captured) {
        this.captured = captured;
        for (byte[] m : captured) {
            if (m.length >= Message.TRANSPORT_MIN_LEN && m[0] == Message.TRANSPORT) {
                transport.add(m);
            }
        }
    }

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "GarbageStorm HOST:PORT --sources A,B,... [--captured FILE] [--ports 64] "
                + "[--seconds 60] [--rate 80000]");
        String file = args.text("captured", "");
        List<byte[]> captured = new ArrayList<>();
        if (!file.isEmpty()) {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (!line.isBlank()) {
                    captured.add(HexFormat.of().parseHex(line.trim()));
                }
            }
        }
        GarbageStorm storm = new GarbageStorm(captured);
        if (!file.isEmpty() && storm.transport.isEmpty()) {
            args.fail(file + " holds no transport message");
        }

        List<Kind> mix = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (int i = 0; i < k.sixteenths && !(k.fromCapture && captured.isEmpty()); i++) {
                mix.add(k);
            }
        }
        Kind[] kinds = new Kind[POOL];
        ByteBuffer[] pool = new ByteBuffer[POOL];
        for (int i = 0; i < POOL; i++) {
            kinds[i] = mix.get(i % mix.size());
            pool[i] = ByteBuffer.wrap(storm.make(kinds[i]));
        }

        long[] replies = {0};
        long[] cookieReplies = {0};
        try (Spray spray = new Spray(args.address(0), args.text("sources", ""), args.integer("ports", 64))) {
            if (spray.sockets() == 0) {
                args.fail("--sources names no address");
            }
            // bench/garbage starts its pings on this line, when the flood is under way rather than the JVM.
            System.err.println("garbage: sending");
            spray.run(pool, (long) (args.number("seconds", 60) * 1e9), args.number("rate", 80_000), reply -> {
                replies[0]++;
                if (reply.remaining() == Message.COOKIE_REPLY_LEN && reply.get(0) == Message.COOKIE_REPLY) {
                    cookieReplies[0]++;
                }
            });
            Map<String, Long> byKind = new LinkedHashMap<>();
            for (int i = 0; i < POOL; i++) {
                long times = spray.sent() / POOL + (i < spray.sent() % POOL ? 1 : 0);
                byKind.merge(kinds[i].name().toLowerCase(), times, Long::sum);
            }
            System.out.println(new Json().put("sources", spray.sockets()).put("captured", captured.size())
                    .put("captured_transport", storm.transport.size()).put("sent", spray.sent())
                    .put("sent_per_s", spray.sent() / spray.seconds()).put("refused_by_socket", spray.refused())
                    .put("sent_by_kind", byKind).put("replies_seen", replies[0])
                    .put("cookie_replies_seen", cookieReplies[0]).put("seconds", spray.seconds()));
        }
    }

    private byte[] make(Kind kind) {
        return switch (kind) {
            case RANDOM -> randomBytes(1 + random.nextInt(MAX_LEN));
            case INITIATION_SHAPED -> shaped(Message.INITIATION, Message.INITIATION_LEN);
            case RESPONSE_SHAPED -> shaped(Message.RESPONSE, Message.RESPONSE_LEN);
            case COOKIE_REPLY_SHAPED -> shaped(Message.COOKIE_REPLY, Message.COOKIE_REPLY_LEN);
            case TRANSPORT_SHAPED -> shaped(Message.TRANSPORT, Message.TRANSPORT_MIN_LEN
                    + Message.PADDING_MULTIPLE * random.nextInt((MAX_LEN - Message.TRANSPORT_MIN_LEN)
                    / Message.PADDING_MULTIPLE + 1));
            case FLIPPED -> {
                byte[] m = pick(captured).clone();
                for (int n = 1 + random.nextInt(4); n > 0; n--) {
                    m[random.nextInt(m.length)] ^= (byte) (1 + random.nextInt(255));
                }
                yield m;
            }
            case BROKEN_TAG -> {
                byte[] m = pick(transport).clone();
                ByteBuffer counter = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
                counter.putLong(Message.TRANSPORT_COUNTER,
                        counter.getLong(Message.TRANSPORT_COUNTER) + AHEAD + random.nextLong(AHEAD));
                m[m.length - 1 - random.nextInt(Aead.TAG_LEN)] ^= (byte) (1 + random.nextInt(255));
                yield m;
            }
            case REPLAYED -> pick(transport);
        };
    }

    private byte[] randomBytes(int length) {
        byte[] m = new byte[length];
        for (int i = 0; i < length; i++) {
            m[i] = (byte) random.nextInt();
        }
        return m;
    }

    private byte[] shaped(int type, int length) {
        byte[] m = randomBytes(length);
        m[0] = (byte) type;
        m[1] = 0;
        m[2] = 0;
        m[3] = 0;
        return m;
    }

    private byte[] pick(List<byte[]> from) {
        return from.get(random.nextInt(from.size()));
    }
}
