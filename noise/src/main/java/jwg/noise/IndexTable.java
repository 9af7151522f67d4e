package jwg.noise;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device's map from the 32-bit indices it hands out as "sender index" to what they name (a handshake in flight,
 * then its keypair). Indices are random (§5.4.2: they hide how many sessions exist and resist guessing) and unique
 * among live entries. Thread-safe and lock-free for lookups, which every received message does.
 */
public final class IndexTable<T> {
    private final ConcurrentHashMap<Integer, T> entries = new ConcurrentHashMap<>();
    private final SecureRandom random;

    public IndexTable(SecureRandom random) {
        this.random = random;
    }

    /** A fresh index for owner, unique among the live ones. */
    public int allocate(T owner) {
        while (true) {
            int index = random.nextInt();
            if (entries.putIfAbsent(index, owner) == null) {
                return index;
            }
        }
    }

    /** Points a live index at a new owner (a handshake's index becoming its keypair's); false if it is gone. */
    public boolean replace(int index, T owner) {
        return entries.computeIfPresent(index, (k, v) -> owner) != null;
    }

    public T get(int index) {
        return entries.get(index);
    }

    /** Frees index only if it still names owner, so a late release cannot free a reused index. */
    public boolean remove(int index, T owner) {
        return entries.remove(index, owner);
    }

    public int size() {
        return entries.size();
    }
}
