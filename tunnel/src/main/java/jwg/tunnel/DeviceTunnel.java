package jwg.tunnel;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.ToLongFunction;
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
    public long lastDataSentNanos(Key peer) {
        return ofPeer(peer, Peer::lastDataSentNanos);
    }

    @Override
    public long firstUnansweredDataNanos(Key peer) {
        return ofPeer(peer, Peer::firstUnansweredDataNanos);
    }

    @Override
    public long pathRttNanos(Key peer) {
        return ofPeer(peer, Peer::pathRttNanos);
    }

    /** A time of the peer's, or 0 (never) if the device no longer has it. */
    private long ofPeer(Key peer, ToLongFunction<Peer> time) {
        Peer p = device.peer(peer);
        return p == null ? 0 : time.applyAsLong(p);
    }

    @Override
    public void probe(Key peer, List<List<InetSocketAddress>> waves, long waveDelayNanos) {
        Peer p = device.peer(peer);
        if (p != null) {
            device.probe(p, waves, waveDelayNanos);
        }
    }

    @Override
    public void check(Key peer, List<InetSocketAddress> targets) {
        Peer p = device.peer(peer);
        if (p != null) {
            device.check(p, targets);
        }
    }
}
