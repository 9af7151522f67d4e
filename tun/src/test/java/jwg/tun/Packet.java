package jwg.tun;

import java.nio.ByteBuffer;

/**
 * A test builder of IPv4/IPv6 TCP/UDP packets with correct checksums (computed by {@link Naive}), options included,
 * and of virtio-headed super-packets in direct buffers. Mutable and chainable; {@link #build} makes a fresh array.
 */
final class Packet {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int URG = 0x20;
    static final int ECE = 0x40;
    static final int CWR = 0x80;

    int version = 4;
    int proto = 6;
    byte[] src4 = {10, 0, 0, 1};
    byte[] dst4 = {10, 0, 0, 2};
    byte[] src6 = v6addr(1);
    byte[] dst6 = v6addr(2);
    int srcPort = 40000;
    int dstPort = 443;
    int seq = 1000;
    int ack = 77777;
    int flags = ACK;
    int window = 501;
    int urgent = 0;
    byte[] tcpOptions = timestamps(1, 2);
    byte[] ipOptions = new byte[0];
    int id = 0x1234;
    int ttl = 64;
    int tos = 0;
    boolean df = true;
    int flowLabel = 0x12345;
    byte[] payload = new byte[0];
    /** When set, the transport checksum field holds just the pseudo-header sum, as the kernel leaves it to offload. */
    boolean partial = false;

    static Packet tcp4() {
        return new Packet();
    }

    static Packet tcp6() {
        Packet p = new Packet();
        p.version = 6;
        return p;
    }

    static Packet udp4() {
        Packet p = new Packet();
        p.proto = 17;
        return p;
    }

    static Packet udp6() {
        Packet p = udp4();
        p.version = 6;
        return p;
    }

    static byte[] v6addr(int last) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfd;
        a[1] = 0x42;
        a[15] = (byte) last;
        return a;
    }

    /** The TCP timestamps option padded with two NOPs: 12 bytes. */
    static byte[] timestamps(int val, int ecr) {
        return new byte[] {1, 1, 8, 10, (byte) (val >>> 24), (byte) (val >>> 16), (byte) (val >>> 8), (byte) val,
            (byte) (ecr >>> 24), (byte) (ecr >>> 16), (byte) (ecr >>> 8), (byte) ecr};
    }

    static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >> 8));
        }
        return b;
    }

    Packet payload(int len, int seed) {
        payload = pattern(len, seed);
        return this;
    }

    Packet payload(byte[] p) {
        payload = p;
        return this;
    }

    Packet seq(int s) {
        seq = s;
        return this;
    }

    Packet flags(int f) {
        flags = f;
        return this;
    }

    Packet id(int i) {
        id = i;
        return this;
    }

    Packet ports(int s, int d) {
        srcPort = s;
        dstPort = d;
        return this;
    }

    Packet options(byte[] o) {
        tcpOptions = o;
        return this;
    }

    Packet ipOptions(byte[] o) {
        ipOptions = o;
        return this;
    }

    Packet partial(boolean p) {
        partial = p;
        return this;
    }

    int ipHeaderLength() {
        return version == 4 ? 20 + ipOptions.length : 40;
    }

    int l4HeaderLength() {
        return proto == 6 ? 20 + tcpOptions.length : 8;
    }

    int headerLength() {
        return ipHeaderLength() + l4HeaderLength();
    }

    byte[] build() {
        int ip = ipHeaderLength();
        int l4 = l4HeaderLength();
        byte[] p = new byte[ip + l4 + payload.length];
        if (version == 4) {
            ipv4(p, ip);
        } else {
            ipv6(p);
        }
        if (proto == 6) {
            tcp(p, ip, l4);
        } else {
            udp(p, ip, l4 + payload.length);
        }
        System.arraycopy(payload, 0, p, ip + l4, payload.length);
        int field = ip + (proto == 6 ? 16 : 6);
        int pseudo = Naive.pseudo(p, 0, proto, p.length - ip);
        int sum = partial ? pseudo : ~Naive.sum(pseudo, p, ip, p.length - ip) & 0xffff;
        if (!partial && proto == 17 && sum == 0) {
            sum = 0xffff;
        }
        p[field] = (byte) (sum >> 8);
        p[field + 1] = (byte) sum;
        return p;
    }

    private void ipv4(byte[] p, int ihl) {
        p[0] = (byte) (0x40 | ihl / 4);
        p[1] = (byte) tos;
        put16(p, 2, p.length);
        put16(p, 4, id);
        p[6] = (byte) (df ? 0x40 : 0);
        p[8] = (byte) ttl;
        p[9] = (byte) proto;
        System.arraycopy(src4, 0, p, 12, 4);
        System.arraycopy(dst4, 0, p, 16, 4);
        System.arraycopy(ipOptions, 0, p, 20, ipOptions.length);
        put16(p, 10, ~Naive.sum(0, p, 0, ihl) & 0xffff);
    }

    private void ipv6(byte[] p) {
        p[0] = (byte) (0x60 | (tos >> 4));
        p[1] = (byte) ((tos & 0x0f) << 4 | (flowLabel >> 16) & 0x0f);
        put16(p, 2, flowLabel & 0xffff);
        put16(p, 4, p.length - 40);
        p[6] = (byte) proto;
        p[7] = (byte) ttl;
        System.arraycopy(src6, 0, p, 8, 16);
        System.arraycopy(dst6, 0, p, 24, 16);
    }

    private void tcp(byte[] p, int at, int l4) {
        put16(p, at, srcPort);
        put16(p, at + 2, dstPort);
        put32(p, at + 4, seq);
        put32(p, at + 8, ack);
        p[at + 12] = (byte) (l4 / 4 << 4);
        p[at + 13] = (byte) flags;
        put16(p, at + 14, window);
        put16(p, at + 18, urgent);
        System.arraycopy(tcpOptions, 0, p, at + 20, tcpOptions.length);
    }

    private void udp(byte[] p, int at, int len) {
        put16(p, at, srcPort);
        put16(p, at + 2, dstPort);
        put16(p, at + 4, len);
    }

    static void put16(byte[] b, int at, int v) {
        Bytes.put16(b, at, v);
    }

    static void put32(byte[] b, int at, int v) {
        Bytes.put32(b, at, v);
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    static int i32(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    /** A direct buffer holding a virtio header (little-endian fields, written by hand) and then packet. */
    static ByteBuffer virtio(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset,
            byte[] packet) {
        ByteBuffer b = ByteBuffer.allocateDirect(10 + packet.length);
        b.put((byte) flags).put((byte) gsoType);
        for (int v : new int[] {hdrLen, gsoSize, csumStart, csumOffset}) {
            b.put((byte) v).put((byte) (v >> 8));
        }
        b.put(packet).flip();
        return b;
    }
}
