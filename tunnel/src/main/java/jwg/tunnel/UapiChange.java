package jwg.tunnel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import jwg.noise.Key;

/** A whole UAPI set request, parsed and validated, not yet applied. Null fields mean "not mentioned". */
final class UapiChange {
    Key privateKey;
    Integer listenPort;
    Integer fwmark;
    boolean replacePeers;
    final List<PeerChange> peers = new ArrayList<>();

    static final class PeerChange {
        final Key publicKey;
        boolean remove;
        boolean updateOnly;
        Key presharedKey;
        InetSocketAddress endpoint;
        Integer persistentKeepalive;
        /** jwg's own key: the host name to follow ("" stops following). wg never sends it. */
        String endpointHost;
        boolean replaceAllowedIps;
        final List<AllowedIp> allowedIps = new ArrayList<>();

        PeerChange(Key publicKey) {
            this.publicKey = publicKey;
        }
    }

    record AllowedIp(AllowedIps.Entry entry, boolean remove) {}
}
