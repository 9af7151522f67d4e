package jwg.roaming;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Resolves a host name to every A and AAAA address it has, with TTLs. Fails the future when it cannot. */
public interface Resolver extends AutoCloseable {
    CompletableFuture<List<ResolvedAddress>> resolve(String host);

    @Override
    void close();
}
