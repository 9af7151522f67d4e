package jwg.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChecksumTest {
    @Test
    void matchesTheNaiveSumOnRandomRanges() {
        Random r = new Random(1);
        byte[] data = new byte[70000];
        r.nextBytes(data);
        ByteBuffer big = ByteBuffer.allocateDirect(data.length).put(0, data);
        ByteBuffer little = ByteBuffer.allocateDirect(data.length).order(ByteOrder.LITTLE_ENDIAN).put(0, data);
        for (int round = 0; round < 3000; round++) {
            int len = round < 40 ? round : r.nextInt(round % 10 == 0 ? 65536 : 100);
            int off = r.nextInt(data.length - len);
            int expected = Naive.sum(0, data, off, len);
            assertEquals(expected, Checksum.fold(Checksum.add(0, data, off, len)), "array " + off + "+" + len);
            assertEquals(expected, Checksum.fold(Checksum.add(0, big, off, len)), "buffer " + off + "+" + len);
            assertEquals(expected, Checksum.fold(Checksum.add(0, little, off, len)), "LE buffer " + off + "+" + len);
        }
    }

    @Test
    void allOnesAndZeros() {
        byte[] ones = new byte[65536];
        java.util.Arrays.fill(ones, (byte) 0xff);
        assertEquals(0xffff, Checksum.fold(Checksum.add(0, ones, 0, ones.length)));
        assertEquals(0, Checksum.finish(Checksum.add(0, ones, 0, ones.length)));
        assertEquals(0, Checksum.fold(Checksum.add(0, new byte[100], 0, 100)));
        assertEquals(0xffff, Checksum.finish(0));
    }

    @Test
    void rfc1071Example() {
        // The worked example of RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0xddf2, Checksum.fold(Checksum.add(0, b, 0, b.length)));
    }

    @Test
    void pseudoHeaderMatchesNaive() {
        byte[] v4 = Packet.tcp4().payload(10, 1).build();
        byte[] v6 = Packet.udp6().payload(10, 1).build();
        assertEquals(Naive.pseudo(v4, 0, 6, 1234), Checksum.fold(Checksum.pseudoHeader(v4, 12, 8, 6, 1234)));
        assertEquals(Naive.pseudo(v6, 0, 17, 70000), Checksum.fold(Checksum.pseudoHeader(v6, 8, 32, 17, 70000)));
        ByteBuffer b = ByteBuffer.allocateDirect(v6.length).put(0, v6);
        assertEquals(Naive.pseudo(v6, 0, 17, 99), Checksum.fold(Checksum.pseudoHeader(b, 8, 32, 17, 99)));
    }
}
