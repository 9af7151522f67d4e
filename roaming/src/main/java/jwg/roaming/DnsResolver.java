package jwg.roaming;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.HostsFileEntriesProvider;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS client that keeps what the JDK's InetAddress throws away: every A and AAAA record with its TTL
 * (InetAddress caches for 30 s whatever the TTL, and returns no TTL). Uses /etc/resolv.conf, and /etc/hosts first
 * (every address a name has there, with {@link #HOSTS_TTL_SECONDS}); re-reads both on every resolution, so a changed
 * file counts at once. Netty's resolver, with its cache off: the caller schedules by TTL itself.
 */
public final class DnsResolver implements Resolver {
    /** /etc/hosts has no TTL; it is re-read this often. */
    public static final long HOSTS_TTL_SECONDS = 30;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final DnsNameResolver dns;

    public DnsResolver() {
        dns = new DnsNameResolverBuilder(group.next())
                .datagramChannelType(NioDatagramChannel.class)
                .resolveCache(NoopDnsCache.INSTANCE)
                .queryTimeoutMillis(2000)
                .build();
    }

    @Override
    public CompletableFuture<List<ResolvedAddress>> resolve(String host) {
        List<ResolvedAddress> fromHosts = hostsFile(host);
        if (!fromHosts.isEmpty()) {
            return CompletableFuture.completedFuture(fromHosts);
        }
        CompletableFuture<List<ResolvedAddress>> v6 = query(host, DnsRecordType.AAAA);
        CompletableFuture<List<ResolvedAddress>> v4 = query(host, DnsRecordType.A);
        return v6.handle((a, e) -> a == null ? List.<ResolvedAddress>of() : a)
                .thenCombine(v4.handle((a, e) -> a == null ? List.<ResolvedAddress>of() : a), (a, b) -> {
                    List<ResolvedAddress> all = new ArrayList<>(a);
                    all.addAll(b);
                    if (all.isEmpty()) {
                        throw new IllegalStateException("no A or AAAA record for " + host);
                    }
                    return all;
                });
    }

    private CompletableFuture<List<ResolvedAddress>> query(String host, DnsRecordType type) {
        CompletableFuture<List<ResolvedAddress>> out = new CompletableFuture<>();
        dns.resolveAll(new DefaultDnsQuestion(host, type)).addListener(f -> {
            if (!f.isSuccess()) {
                out.completeExceptionally(f.cause());
                return;
            }
            @SuppressWarnings("unchecked")
            List<DnsRecord> records = (List<DnsRecord>) f.getNow();
            List<ResolvedAddress> addresses = new ArrayList<>();
            try {
                for (DnsRecord r : records) {
                    if (r.type() == type && r instanceof DnsRawRecord raw) {
                        byte[] bytes = new byte[raw.content().readableBytes()];
                        raw.content().getBytes(raw.content().readerIndex(), bytes);
                        addresses.add(new ResolvedAddress(address(bytes), r.timeToLive()));
                    }
                }
                out.complete(addresses);
            } catch (UnknownHostException e) {
                out.completeExceptionally(e);
            } finally {
                records.forEach(ReferenceCountUtil::release);
            }
        });
        return out;
    }

    private static InetAddress address(byte[] bytes) throws UnknownHostException {
        return bytes.length == 16 ? java.net.Inet6Address.getByAddress(null, bytes, -1) : InetAddress.getByAddress(bytes);
    }

    private static List<ResolvedAddress> hostsFile(String host) {
        List<ResolvedAddress> out = new ArrayList<>();
        try {
            HostsFileEntriesProvider entries = HostsFileEntriesProvider.parser().parseSilently();
            String key = host.toLowerCase(Locale.ROOT);
            for (InetAddress a : entries.ipv6Entries().getOrDefault(key, List.of())) {
                out.add(new ResolvedAddress(a, HOSTS_TTL_SECONDS));
            }
            for (InetAddress a : entries.ipv4Entries().getOrDefault(key, List.of())) {
                out.add(new ResolvedAddress(a, HOSTS_TTL_SECONDS));
            }
        } catch (RuntimeException e) {
            // an unreadable hosts file is no answer, DNS still is
        }
        return out;
    }

    @Override
    public void close() {
        dns.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
