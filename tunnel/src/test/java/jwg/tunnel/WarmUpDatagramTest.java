package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import jwg.noise.Drop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The start-up warm-up's datagram goes through the real receive path and is not counted as a drop; no other is. */
class WarmUpDatagramTest {
    private Device device;

    @BeforeEach
    void setUp() throws Exception {
        device = new Device("test0", null, new Log(Log.Level.SILENT, "test0", System.err), () -> { });
        device.bind(0, 0);
    }

    @AfterEach
    void tearDown() {
        device.close();
    }

    @Test
    void theWarmUpsByteIsUncountedAndEveryOtherJunkDatagramCounted() throws Exception {
        device.udp().warmUp();
        try (DatagramSocket stranger = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            send(stranger, 2);
            send(stranger, 1);
            // Three junk datagrams, one of them the warm-up's: whichever one-byte datagram the loop sees first is
            // taken as it, so two are counted.
            assertEquals(2, malformedSettled(2));
            send(stranger, 1);
            assertEquals(3, malformedSettled(3), "a one-byte datagram after the warm-up's is counted");
        }
    }

    private void send(DatagramSocket from, int len) throws Exception {
        from.send(new DatagramPacket(new byte[len], len, InetAddress.getLoopbackAddress(), device.udp().port()));
    }

    /** The malformed count once it reached want (5 s at most), and 200 ms more to see that it stays. */
    private long malformedSettled(long want) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (device.drops().get(Drop.MALFORMED) < want && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(200);
        return device.drops().get(Drop.MALFORMED);
    }
}
