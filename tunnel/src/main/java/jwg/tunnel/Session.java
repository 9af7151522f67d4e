package jwg.tunnel;

import jwg.noise.Keypair;

/**
 * What a receiver index names in the device's index table: a peer's handshake in flight (keypair null), then the
 * keypair it produced.
 */
record Session(Peer peer, Keypair keypair) {}
