package jwg.noise;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The device's map from the 32-bit indices it hands out as "sender index" to what they name (a handshake in flight,
 * then its keypair). Indices are random (§5.4.2: they hide how many sessions exist and resist guessing) and unique
 * among live entries.
 *
 * <p>Every received message looks an index up, so lookups take no lock and allocate nothing (a map keyed by Integer
 * boxed each lookup: 5.1 MB per 5 s of a receiver's 1 Gbit/s, by JFR). The table is an array of buckets, each an
 * immutable array of entries; the random index itself picks the bucket. Changes (a handshake or a session coming or
 * going) copy one bucket under this object's lock and publish it; growing doubles the buckets and publishes the new
 * table at once. A reader sees either the old bucket or the new, both consistent.
 */
public final class IndexTable<T> {
    private static final int INITIAL_BUCKETS = 64;

    private record Entry<T>(int index, T owner) {}

    private volatile AtomicReferenceArray<Entry<T>[]> buckets = new AtomicReferenceArray<>(INITIAL_BUCKETS);
    private final SecureRandom random;
    private int size;

    public IndexTable(SecureRandom random) {
        this.random = random;
    }

    /** A fresh index for owner, unique among the live ones. */
    public synchronized int allocate(T owner) {
        while (true) {
            int index = random.nextInt();
            if (find(index) == null) {
                put(index, owner);
                return index;
            }
        }
    }

    /** Points a live index at a new owner (a handshake's index becoming its keypair's); false if it is gone. */
    public synchronized boolean replace(int index, T owner) {
        if (find(index) == null) {
            return false;
        }
        removeEntry(index, null);
        put(index, owner);
        return true;
    }

    public T get(int index) {
        return find(index);
    }

    /** Removes index if owner still holds it. */
    public synchronized boolean remove(int index, T owner) {
        return removeEntry(index, owner);
    }

    public synchronized int size() {
        return size;
    }

    private T find(int index) {
        AtomicReferenceArray<Entry<T>[]> table = buckets;
        Entry<T>[] bucket = table.get(index & (table.length() - 1));
        if (bucket != null) {
            for (Entry<T> e : bucket) {
                if (e.index == index) {
                    return e.owner;
                }
            }
        }
        return null;
    }

    private void put(int index, T owner) {
        if (size + 1 > 2 * buckets.length()) {
            grow();
        }
        insert(buckets, new Entry<>(index, owner));
        size++;
    }

    @SuppressWarnings("unchecked")
    private static <T> void insert(AtomicReferenceArray<Entry<T>[]> table, Entry<T> e) {
        int at = e.index & (table.length() - 1);
        Entry<T>[] old = table.get(at);
        int n = old == null ? 0 : old.length;
        Entry<T>[] bucket = new Entry[n + 1];
        if (old != null) {
            System.arraycopy(old, 0, bucket, 0, n);
        }
        bucket[n] = e;
        table.set(at, bucket);
    }

    /** owner null: whoever holds it. */
    @SuppressWarnings("unchecked")
    private boolean removeEntry(int index, T owner) {
        AtomicReferenceArray<Entry<T>[]> table = buckets;
        int at = index & (table.length() - 1);
        Entry<T>[] old = table.get(at);
        if (old == null) {
            return false;
        }
        for (int i = 0; i < old.length; i++) {
            if (old[i].index == index && (owner == null || owner.equals(old[i].owner))) {
                Entry<T>[] bucket = null;
                if (old.length > 1) {
                    bucket = new Entry[old.length - 1];
                    System.arraycopy(old, 0, bucket, 0, i);
                    System.arraycopy(old, i + 1, bucket, i, old.length - i - 1);
                }
                table.set(at, bucket);
                size--;
                return true;
            }
        }
        return false;
    }

    private void grow() {
        AtomicReferenceArray<Entry<T>[]> old = buckets;
        AtomicReferenceArray<Entry<T>[]> bigger = new AtomicReferenceArray<>(old.length() * 2);
        for (int i = 0; i < old.length(); i++) {
            Entry<T>[] bucket = old.get(i);
            if (bucket != null) {
                for (Entry<T> e : bucket) {
                    insert(bigger, e);
                }
            }
        }
        buckets = bigger;
    }
}
