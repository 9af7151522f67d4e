package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatagramBuffersTest {
    @Test
    void aReleasedRunIsTheNextRunsMemory() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        ByteBuf first = a.directBuffer(SendBatch.MAX_BYTES);
        long address = first.memoryAddress();
        assertEquals(DatagramBuffers.RUN, first.capacity());
        assertEquals(0, first.readerIndex());
        assertEquals(0, first.writerIndex());
        first.writeLong(0x1122334455667788L);
        first.release();
        assertEquals(1, a.idle());
        ByteBuf second = a.directBuffer(DatagramBuffers.RUN);
        assertEquals(address, second.memoryAddress());
        assertEquals(0, second.writerIndex(), "a reused buffer starts empty");
        assertSame(a, second.alloc());
        assertEquals(0, a.idle());
        second.release();
    }

    @Test
    void aReleasedRunComesBackWholeAndFresh() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        ByteBuf first = a.directBuffer(DatagramBuffers.RUN);
        first.writeZero(100).readerIndex(40);
        first.markReaderIndex();
        first.retain();
        assertEquals(false, first.release());
        assertEquals(0, a.idle(), "held while a reference is left");
        assertTrue(first.release());
        ByteBuf second = a.directBuffer(DatagramBuffers.RUN);
        assertSame(first, second, "the wrapper itself is reused, not only its memory");
        assertEquals(1, second.refCnt());
        assertEquals(0, second.readerIndex());
        assertEquals(0, second.writerIndex());
        second.writeZero(10).resetReaderIndex();
        assertEquals(0, second.readerIndex(), "no mark left from the buffer's last use");
        assertEquals(DatagramBuffers.RUN, second.capacity());
        assertTrue(second.release());
    }

    @Test
    void slicesHoldTheRunUntilTheLastIsReleased() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        ByteBuf run = a.directBuffer(DatagramBuffers.RUN);
        run.writeZero(3000);
        ByteBuf one = run.retainedSlice(0, 1500);
        ByteBuf two = run.retainedSlice(1500, 1500);
        run.release();
        one.release();
        assertEquals(0, a.idle());
        two.release();
        assertEquals(1, a.idle());
    }

    @Test
    void smallRequestsAreNettys() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        ByteBuf small = a.directBuffer(148);
        assertNotSame(a, small.alloc());
        small.release();
        assertEquals(0, a.idle());
    }

    @Test
    void keepsAtMostItsBoundAndFreesTheRest() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        List<ByteBuf> held = new ArrayList<>();
        for (int i = 0; i < DatagramBuffers.KEEP_RUNS + 5; i++) {
            held.add(a.directBuffer(DatagramBuffers.RUN));
        }
        held.forEach(ByteBuf::release);
        assertEquals(DatagramBuffers.KEEP_RUNS, a.idle());
    }

    @Test
    void aRunCannotGrowPastItsMemory() {
        DatagramBuffers a = new DatagramBuffers(DatagramBuffers.RUN);
        ByteBuf run = a.directBuffer(DatagramBuffers.RUN);
        run.writeZero(DatagramBuffers.RUN);
        assertThrows(IndexOutOfBoundsException.class, () -> run.writeByte(1));
        run.release();
    }

    @Test
    void batchesOfRecvmmsgHaveTheirOwnList() {
        int batch = Udp.MAX_DATAGRAM * Udp.BATCH;
        DatagramBuffers a = new DatagramBuffers(batch);
        ByteBuf big = a.directBuffer(batch);
        ByteBuf run = a.directBuffer(DatagramBuffers.RUN);
        assertEquals(batch, big.capacity());
        assertEquals(DatagramBuffers.RUN, run.capacity());
        long address = big.memoryAddress();
        big.release();
        run.release();
        assertEquals(2, a.idle());
        ByteBuf again = a.directBuffer(batch);
        assertEquals(address, again.memoryAddress());
        assertNotEquals(address, a.directBuffer(DatagramBuffers.RUN).memoryAddress());
        assertTrue(again.release());
    }
}
