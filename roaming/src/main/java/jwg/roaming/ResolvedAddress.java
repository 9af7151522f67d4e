package jwg.roaming;

import java.net.InetAddress;

/** One A or AAAA answer with the time it may be cached for. */
public record ResolvedAddress(InetAddress address, long ttlSeconds) {}
