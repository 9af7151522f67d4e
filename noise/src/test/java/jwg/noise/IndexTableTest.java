package jwg.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The device's sender-index table: random indices, unique among live entries, released only by their owner. */
class IndexTableTest {
    @Test
    void allocatedIndicesAreUniqueAndNameTheirOwners() {
        IndexTable<Object> table = new IndexTable<>(new SecureRandom());
        int n = 100_000;
        Object[] owners = new Object[n];
        int[] indices = new int[n];
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            owners[i] = new Object();
            indices[i] = table.allocate(owners[i]);
            assertTrue(seen.add(indices[i]), "index " + indices[i] + " handed out twice");
        }
        assertEquals(n, table.size());
        for (int i = 0; i < n; i++) {
            assertSame(owners[i], table.get(indices[i]));
        }
    }

    @Test
    void allocationSkipsLiveIndicesWhenTheRandomSourceRepeats() {
        // A random source confined to 0..1023 collides constantly: every live index must still be skipped.
        Random narrow = new Random(1);
        SecureRandom colliding = new SecureRandom() {
            @Override
            public int nextInt() {
                return narrow.nextInt(1024);
            }
        };
        IndexTable<Integer> table = new IndexTable<>(colliding);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            int index = table.allocate(i);
            assertTrue(index >= 0 && index < 1024);
            assertTrue(seen.add(index), "index " + index + " handed out twice");
            assertEquals(i, table.get(index));
        }
        assertEquals(1000, table.size());
    }

    @Test
    void replacePointsALiveIndexAtANewOwnerAndNeverRevivesAFreedOne() {
        IndexTable<String> table = new IndexTable<>(new SecureRandom());
        int index = table.allocate("handshake");
        assertTrue(table.replace(index, "keypair"));
        assertEquals("keypair", table.get(index));

        assertTrue(table.remove(index, "keypair"));
        assertFalse(table.replace(index, "late"));
        assertNull(table.get(index));
        assertEquals(0, table.size());
    }

    @Test
    void removeFreesAnIndexOnlyForItsCurrentOwner() {
        IndexTable<String> table = new IndexTable<>(new SecureRandom());
        int index = table.allocate("handshake");
        int other = table.allocate("other");
        assertFalse(table.remove(index, "other"));
        assertEquals("handshake", table.get(index));

        table.replace(index, "keypair");
        // A late release by the index's previous owner leaves it alone.
        assertFalse(table.remove(index, "handshake"));
        assertEquals("keypair", table.get(index));
        assertTrue(table.remove(index, "keypair"));
        assertNull(table.get(index));
        assertEquals("other", table.get(other));
        assertEquals(1, table.size());
    }

    @Test
    void lookupsNeverMissALiveIndexWhileOthersComeGoAndTheTableGrows() throws Exception {
        IndexTable<Object> table = new IndexTable<>(new SecureRandom());
        Object owner = new Object();
        int live = table.allocate(owner);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong misses = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = new Thread(() -> {
            while (!stop.get()) {
                if (table.get(live) != owner) {
                    misses.incrementAndGet();
                }
            }
        });
        reader.start();
        int[] churn = new int[50_000];
        for (int i = 0; i < churn.length; i++) {
            churn[i] = table.allocate(i);
        }
        for (int i = 0; i < churn.length; i++) {
            assertTrue(table.remove(churn[i], i));
        }
        stop.set(true);
        reader.join();
        assertEquals(0, misses.get());
        assertEquals(1, table.size());
    }
}
