package dev.braid.sim.scsi;

import dev.braid.sim.SharedBlockStore;
import dev.braid.testkit.Seed;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fence invariant under a real race: a queue thread submits and polls reads as fast as it can
 * (50 µs service latency on the real clock, so requests are pending when the fence lands) while another
 * thread fences the card. Once fence() returns, guest memory must not change.
 */
class SimHbaFenceRaceTest
{
    static final int DEPTH = 32;
    static final long BUFFERS = 0x10000;
    static final int BLOCKS = 512;

    @Test
    void noDmaAfterFenceReturns() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(BLOCKS);
        for (int block = 0; block < BLOCKS; block++)
        {
            store.data().setMemory(block * 512, 512, (byte)(block * 7 + 1));
        }
        final SimTarget[] targets = {new SimTarget(new SimLun(store, new AtomicLong(), "RACE", 1))};
        final GuestMemory memory = GuestMemory.allocate(1 << 20);
        final SimHba hba = new SimHba("race", SystemNanoClock.INSTANCE, targets, 1, DEPTH, 50_000);
        final ScsiIo[] ios = new ScsiIo[DEPTH];
        for (int i = 0; i < DEPTH; i++)
        {
            ios[i] = new ScsiIo(1);
        }
        final int rounds = Math.max(5, Seed.configuredSeeds() / 100);
        final byte[] snapshot = new byte[DEPTH * 512];
        final byte[] later = new byte[DEPTH * 512];
        for (int round = 0; round < rounds; round++)
        {
            hba.unfence();
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicLong completed = new AtomicLong();
            final Thread driver = new Thread(() ->
            {
                long counter = 0;
                final int[] inUse = new int[DEPTH];
                while (!stop.get())
                {
                    final int slot = (int)(counter % DEPTH);
                    if (inUse[slot] == 0)
                    {
                        final ScsiIo io = ios[slot];
                        final int lba = (int)(counter * 13 % BLOCKS);
                        final byte[] cdb = io.cdb();
                        cdb[0] = 0x28;
                        cdb[4] = (byte)(lba >>> 8);
                        cdb[5] = (byte)lba;
                        cdb[8] = 1;
                        io.set(0, 0, counter, 10);
                        io.dataIn().reset(memory);
                        io.dataIn().add(BUFFERS + slot * 512L, 512);
                        io.dataOut().reset(memory);
                        if (hba.submit(0, io, slot, (token, status, length) ->
                        {
                            inUse[(int)token] = 0;
                            completed.incrementAndGet();
                            return true;
                        }))
                        {
                            inUse[slot] = 1;
                        }
                    }
                    counter++;
                    hba.poll(0);
                }
            });
            driver.start();
            while (completed.get() < 200)
            {
                Thread.onSpinWait();
            }
            hba.fence();
            memory.getBytes(BUFFERS, snapshot, 0, snapshot.length);
            // Let the driver poll on until it has reaped the cancelled requests: none of them may DMA.
            while (hba.inFlight(0) != 0)
            {
                Thread.onSpinWait();
            }
            Thread.sleep(1);
            stop.set(true);
            driver.join();
            memory.getBytes(BUFFERS, later, 0, later.length);
            assertArrayEquals(snapshot, later, "guest memory changed after fence() returned, round " + round);
        }
    }
}
