package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Transport messages (§5.4.6): the type-4 header, counters, padding, keepalives, and opening in place. */
class KeypairTest {
    private static final int LOCAL = 0x11223344;
    private static final int REMOTE = 0xa1b2c3d4;

    private final Peers.Keys keys = Peers.keypairs(1, LOCAL, REMOTE);
    private final Keypair sender = keys.initiator();
    private final Keypair receiver = keys.responder();

    @Test
    void sealWritesType4TheRemoteIndexAndALittleEndianCounterCountingFromZero() {
        for (int i = 0; i <= 300; i++) {
            byte[] msg = Peers.seal(sender, new byte[5], 0);
            assertArrayEquals(new byte[] {4, 0, 0, 0}, Arrays.copyOfRange(msg, 0, 4));
            assertArrayEquals(new byte[] {(byte) 0xd4, (byte) 0xc3, (byte) 0xb2, (byte) 0xa1},
                    Arrays.copyOfRange(msg, 4, 8));
            byte[] counter = {(byte) i, (byte) (i >>> 8), 0, 0, 0, 0, 0, 0};
            assertArrayEquals(counter, Arrays.copyOfRange(msg, 8, 16), "message " + i);
            assertEquals(i + 1, sender.sendCount());
        }
    }

    @Test
    void paddedLengthRoundsUpToAMultipleOf16CappedAtTheMtu() {
        int mtu = 1420;
        int[][] plainAndPadded = {
            {0, 0}, {1, 16}, {15, 16}, {16, 16}, {17, 32}, {1403, 1408}, {1408, 1408}, {1409, 1420},
            {1419, 1420}, {1420, 1420},
            // Past the MTU (the kernel's rule): the part beyond the last whole MTU is padded on its own.
            {1421, 1436}, {2840, 2840},
        };
        for (int[] c : plainAndPadded) {
            assertEquals(c[1], Keypair.paddedLength(c[0], mtu), "length " + c[0] + " mtu " + mtu);
        }
    }

    @Test
    void paddedLengthWithMtu0IsAPlainMultipleOf16() {
        int[][] plainAndPadded = {{0, 0}, {1, 16}, {16, 16}, {17, 32}, {1419, 1424}, {1420, 1424}, {1421, 1424},
            {65_535, 65_536}};
        for (int[] c : plainAndPadded) {
            assertEquals(c[1], Keypair.paddedLength(c[0], 0), "length " + c[0]);
        }
    }

    @Test
    void sealPadsWithZerosWhateverTheBufferHeld() {
        byte[] plain = Peers.bytes(3, 17);
        byte[] buf = new byte[16 + 32 + 16];
        Arrays.fill(buf, (byte) 0xaa);
        System.arraycopy(plain, 0, buf, 16, plain.length);
        assertEquals(64, sender.seal(buf, 0, plain.length, Protocol.DEFAULT_MTU));

        byte[] opened = Peers.open(receiver, buf);
        assertEquals(32, opened.length);
        assertArrayEquals(plain, Arrays.copyOf(opened, 17));
        assertArrayEquals(new byte[15], Arrays.copyOfRange(opened, 17, 32));
    }

    @Test
    void plaintextAtTheMtuIsNotPaddedPastIt() {
        assertEquals(16 + 1420 + 16, Peers.seal(sender, new byte[1419], 1420).length);
        assertEquals(16 + 1420 + 16, Peers.seal(sender, new byte[1420], 1420).length);
    }

    @Test
    void keepaliveIs32BytesAndOpensToZeroBytes() {
        byte[] buf = new byte[32];
        assertEquals(32, sender.seal(buf, 0, 0, Protocol.DEFAULT_MTU));
        assertEquals(0, receiver.open(buf, 0, buf.length));
    }

    @Test
    void openWorksInPlaceAtANonzeroOffsetAndTouchesNothingOutsideTheMessage() {
        byte[] plain = Peers.bytes(4, 40);
        byte[] msg = Peers.seal(sender, plain, 0);
        int off = 37;
        byte[] buf = new byte[off + msg.length + 11];
        Arrays.fill(buf, (byte) 0x5a);
        System.arraycopy(msg, 0, buf, off, msg.length);

        assertEquals(48, receiver.open(buf, off, msg.length));
        assertArrayEquals(plain, Arrays.copyOfRange(buf, off + 16, off + 16 + 40));
        assertArrayEquals(new byte[8], Arrays.copyOfRange(buf, off + 56, off + 64));
        assertArrayEquals(filled(off), Arrays.copyOfRange(buf, 0, off));
        assertArrayEquals(filled(11), Arrays.copyOfRange(buf, off + msg.length, buf.length));
    }

    @Test
    void sealWorksInPlaceAtANonzeroOffsetAndTouchesNothingBeforeIt() {
        byte[] plain = Peers.bytes(5, 20);
        int off = 9;
        byte[] buf = new byte[off + 16 + 32 + 16 + 3];
        Arrays.fill(buf, (byte) 0x5a);
        System.arraycopy(plain, 0, buf, off + 16, plain.length);

        int len = sender.seal(buf, off, plain.length, 0);
        assertEquals(64, len);
        assertArrayEquals(filled(off), Arrays.copyOfRange(buf, 0, off));
        assertArrayEquals(filled(3), Arrays.copyOfRange(buf, off + len, buf.length));
        byte[] opened = Peers.open(receiver, Arrays.copyOfRange(buf, off, off + len));
        assertArrayEquals(plain, Arrays.copyOf(opened, 20));
    }

    @Test
    void messagesOpenOutOfOrderButOnlyOnce() {
        byte[][] msgs = new byte[5][];
        for (int i = 0; i < msgs.length; i++) {
            msgs[i] = Peers.seal(sender, Peers.bytes(i, 16), 0);
        }
        for (int i : new int[] {3, 0, 4, 1, 2}) {
            assertArrayEquals(Peers.bytes(i, 16), Peers.open(receiver, msgs[i]));
        }
        for (byte[] m : msgs) {
            assertEquals(Drop.REPLAYED_COUNTER.code(), Peers.tryOpen(receiver, m));
        }
    }

    @Test
    void aKeypairCannotOpenItsOwnMessages() {
        // Send and receive keys differ: a message reflected back at its sender does not open.
        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(sender, Peers.seal(sender, new byte[16], 0)));
    }

    @Test
    void counterAtRejectAfterMessagesIsExhaustedBeforeAnyDecryption() {
        byte[] msg = Peers.seal(sender, new byte[16], 0);
        Message.putLong(msg, Message.TRANSPORT_COUNTER, Protocol.REJECT_AFTER_MESSAGES);
        assertEquals(Drop.COUNTER_EXHAUSTED.code(), Peers.tryOpen(receiver, msg));
        Message.putLong(msg, Message.TRANSPORT_COUNTER, -1L);
        assertEquals(Drop.COUNTER_EXHAUSTED.code(), Peers.tryOpen(receiver, msg));
        Message.putLong(msg, Message.TRANSPORT_COUNTER, Protocol.REJECT_AFTER_MESSAGES - 1);
        assertEquals(Drop.DECRYPT_FAILED.code(), Peers.tryOpen(receiver, msg));
    }

    @Test
    void everyDropReasonRoundTripsThroughItsCodeAndNoCodeIsALength() {
        for (Drop d : Drop.values()) {
            assertTrue(d.code() < 0, d + " must be negative");
            assertEquals(d, Drop.ofCode(d.code()));
        }
        assertEquals(Drop.MALFORMED, Drop.ofCode(-1_000_000), "an unknown code reads as malformed");
    }

    private static byte[] filled(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 0x5a);
        return b;
    }
}
