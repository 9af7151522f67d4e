package jwg.tunnel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import jwg.noise.Key;
import jwg.noise.Secret;

/**
 * A whole UAPI set request, parsed and validated, not yet applied. Null fields mean "not mentioned". Its secrets are
 * copied where they go when it is applied; whoever made it {@link #wipe}s it once it is applied or refused.
 */
final class UapiChange {
    Secret privateKey;
    Integer listenPort;
    Integer fwmark;
    boolean replacePeers;
    final List<PeerChange> peers = new ArrayList<>();

    void wipe() {
        if (privateKey != null) {
            privateKey.wipe();
        }
        for (PeerChange p : peers) {
            if (p.presharedKey != null) {
                p.presharedKey.wipe();
            }
        }
    }

    static final class PeerChange {
        final Key publicKey;
        boolean remove;
        boolean updateOnly;
        Secret presharedKey;
        InetSocketAddress endpoint;
        Integer persistentKeepalive;
        /** jwg's own key: the endpoint list to follow ("" stops following). wg never sends it. */
        String endpointHost;
        /** jwg's own key: the list's fail-back hold-down in seconds, or null for the default. */
        Long failbackAfterSeconds;
        boolean replaceAllowedIps;
        final List<AllowedIp> allowedIps = new ArrayList<>();

        PeerChange(Key publicKey) {
            this.publicKey = publicKey;
        }
    }

    record AllowedIp(AllowedIps.Entry entry, boolean remove) {}
}
