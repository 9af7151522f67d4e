package jwg.tun;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Inbound GRO in software: gathers decrypted IP packets into TCP (and, if enabled, UDP) super-packets so that a TUN
 * device opened with IFF_VNET_HDR takes a whole run of segments in one write. Everything else, and every packet
 * that does not qualify, is passed through alone, in order.
 *
 * <p>Packets are held in up to {@code maxPackets} pending items, each a direct buffer with room for the virtio
 * header and one packet of up to 65535 bytes (65575 for a single IPv6 packet). A packet either extends the newest
 * item of its flow or starts a new item; {@link #flush} writes the items in the order their first packets arrived.
 * Since a flow only ever grows its newest item, and any packet of the flow that cannot join it closes it, packets of
 * one flow are never reordered; packets of different flows keep the order of their items' first packets.
 *
 * <p>A packet joins an item only under the conditions the kernel's own GRO applies (net/ipv4/af_inet.c
 * inet_gro_receive, net/ipv6/ip6_offload.c, net/ipv4/tcp_offload.c tcp_gro_receive, net/ipv4/udp_offload.c), and
 * where those are lenient we are stricter, so that segmenting the result again gives back exactly the packets we
 * were given; see {@link GroItem} for the rules, each with its reason.
 *
 * <p>Nothing is allocated per packet; buffers are allocated the first time an item slot is used and kept. Thread
 * safety: none; one instance per delivering thread.
 */
public final class Coalescer {
    /**
     * Receives one item: the virtio header and the packet, from position 0 to the limit. The buffer belongs to the
     * Coalescer and is reused once write returns, so the write must be done (or copied) by then.
     */
    public interface Writer {
        void write(ByteBuffer headerAndPacket) throws IOException;
    }

    /** The largest packet an item may grow to: IPv4's total length limit, applied to IPv6 too. */
    static final int MAX_MERGED = 65535;
    /** The largest single packet held: an IPv6 packet with the largest non-jumbo payload. */
    static final int MAX_PACKET = 65535 + 40;
    /** UDP_GRO_CNT_MAX in the kernel: no more datagrams than this in one UDP super-packet. */
    static final int MAX_UDP_SEGMENTS = 64;

    private final GroItem[] items;
    private final GroItem packet = new GroItem();
    private int size;
    private boolean udp;

    /** maxPackets: how many items may be pending at once (e.g. 64); at least 1. */
    public Coalescer(int maxPackets) {
        if (maxPackets < 1) {
            throw new IllegalArgumentException("maxPackets must be at least 1: " + maxPackets);
        }
        items = new GroItem[maxPackets];
        for (int i = 0; i < maxPackets; i++) {
            items[i] = new GroItem();
        }
    }

    /** Coalesce UDP too; only when the kernel accepted USO (TUN_F_USO4 and TUN_F_USO6), else it rejects the writes. */
    public void setUdp(boolean enabled) {
        udp = enabled;
    }

    /** How many items are pending. */
    public int pending() {
        return size;
    }

    /**
     * Offers one IP packet at src[off, off+len), already authenticated and decrypted, and copies it into a pending
     * item. Returns false, taking nothing, when it needs a new item and all are in use: flush, then offer it again.
     * A packet that cannot be an IP packet for the device (empty, over {@value #MAX_PACKET} bytes, or a range
     * outside src) is dropped, returning true, since the kernel would refuse the write anyway.
     */
    public boolean add(byte[] src, int off, int len) {
        if (off < 0 || len <= 0 || len > MAX_PACKET || off > src.length - len) {
            return true;
        }
        packet.classify(src, off, len, udp);
        GroItem last = newestOfFlow();
        if (last != null && last.accepts(packet)) {
            last.append(packet);
            return true;
        }
        if (size == items.length) {
            return false;
        }
        if (last != null) {
            last.close();
        }
        items[size++].start(packet);
        return true;
    }

    /**
     * Writes every pending item through writer, in the order their first packets arrived, then forgets them all
     * (also when the writer throws: a failing TUN write means the device is gone).
     */
    public void flush(Writer writer) throws IOException {
        try {
            for (int i = 0; i < size; i++) {
                writer.write(items[i].finish());
            }
        } finally {
            size = 0;
        }
    }

    /**
     * The newest item of the packet's flow, or null. A packet with addresses but no usable ports (a fragment, ICMP,
     * an IPv6 extension header) closes every item between the same two hosts instead, since it may belong to any of
     * their flows and nothing may later be merged in ahead of it.
     */
    private GroItem newestOfFlow() {
        if (!packet.hasAddresses()) {
            return null;
        }
        boolean hostsOnly = !packet.hasPorts();
        for (int i = size - 1; i >= 0; i--) {
            GroItem item = items[i];
            if (hostsOnly) {
                if (item.sameHosts(packet)) {
                    item.close();
                }
            } else if (item.sameFlow(packet)) {
                return item;
            }
        }
        return null;
    }
}
