package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The training run is two whole devices over socket pairs and loopback UDP: every packet it sends (the first behind a
 * handshake, UDP over IPv4 and IPv6 both ways, a TCP super-packet segmented and coalesced again) must come through,
 * or the archive it records would miss the paths it is there for.
 */
class CdsTrainingTest {
    @Test
    void carriesEveryPacket() throws Exception {
        assertEquals(3 * CdsTraining.PACKETS, CdsTraining.train(3));
    }
}
