package jwg.tunnel;

import java.net.InetSocketAddress;
import java.util.List;
import jwg.noise.Key;
import jwg.roaming.Tunnel;

/** The device as roaming sees it: the only door between roaming/ and the device. */
final class DeviceTunnel implements Tunnel {
    private final Device device;

    DeviceTunnel(Device device) {
        this.device = device;
    }

    @Override
    public boolean hasPeer(Key peer) {
        return device.peer(peer) != null;
    }

    @Override
    public InetSocketAddress endpoint(Key peer) {
        Peer p = device.peer(peer);
        return p == null ? null : p.endpoint();
    }

    @Override
    public long lastReceivedNanos(Key peer) {
        Peer p = device.peer(peer);
        return p == null ? 0 : p.lastReceivedNanos();
    }

    @Override
    public long lastDataSentNanos(Key peer) {
        Peer p = device.peer(peer);
        return p == null ? 0 : p.lastDataSentNanos();
    }

    @Override
    public long firstUnansweredDataNanos(Key peer) {
        Peer p = device.peer(peer);
        return p == null ? 0 : p.firstUnansweredDataNanos();
    }

    @Override
    public long pathRttNanos(Key peer) {
        Peer p = device.peer(peer);
        return p == null ? 0 : p.pathRttNanos();
    }

    @Override
    public void probe(Key peer, List<InetSocketAddress> candidates, long ipv4DelayNanos) {
        Peer p = device.peer(peer);
        if (p != null) {
            device.probe(p, candidates, ipv4DelayNanos);
        }
    }
}
