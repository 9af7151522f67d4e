package jwg.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** {@link Tun#pair}: a packet device with no interface behind it, as the training run uses it. */
class TunPairTest {
    @Test
    void keepsPacketBoundariesBothWaysAndReportsEmpty() throws IOException {
        Tun[] pair = Tun.pair("p0", true, Tun.TUN_F_CSUM | Tun.TUN_F_TSO4);
        try {
            Tun device = pair[0];
            Tun kernel = pair[1];
            assertTrue(device.hasVnetHeader());
            assertEquals(Tun.TUN_F_CSUM | Tun.TUN_F_TSO4, device.offloads());
            ByteBuffer out = ByteBuffer.allocateDirect(65_535);
            ByteBuffer in = ByteBuffer.allocateDirect(65_535);
            for (int i = 0; i < 300; i++) {
                out.put(i, (byte) i);
            }
            assertTrue(kernel.write(Tun.address(out), 100));
            assertTrue(kernel.write(Tun.address(out), 300));
            assertTrue(kernel.write(Tun.address(out), 60_000));
            assertTrue(device.awaitReadable(1000));
            assertEquals(100, device.read(Tun.address(in), in.capacity()));
            assertEquals(300, device.read(Tun.address(in), in.capacity()));
            assertEquals((byte) 299, in.get(299));
            assertEquals(60_000, device.read(Tun.address(in), in.capacity()));
            assertEquals(Tun.EMPTY, device.read(Tun.address(in), in.capacity()));
            assertFalse(device.awaitReadable(0));
            assertTrue(device.write(Tun.address(out), 40));
            assertEquals(40, kernel.read(Tun.address(in), in.capacity()));
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    @Test
    void withoutTheHeaderClaimsNoOffloadsAndHasNoInterface() throws IOException {
        Tun[] pair = Tun.pair("p1", false, Tun.TUN_F_CSUM);
        try {
            assertFalse(pair[0].hasVnetHeader());
            assertEquals(0, pair[0].offloads());
            assertThrows(IOException.class, pair[0]::mtu);
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }
}
