package jwg.tunnel;

import jwg.noise.Keypair;

/**
 * What a receiver index names in the device's index table: a peer's handshake in flight (keypair null), or the
 * keypair that handshake produced. The peer that made an entry is its only owner and removes it.
 */
record Session(Peer peer, Keypair keypair) {}
