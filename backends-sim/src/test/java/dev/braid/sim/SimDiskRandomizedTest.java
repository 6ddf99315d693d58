package dev.braid.sim;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random requests over two disks sharing one store, with random latency, fences, rejoins and error
 * bursts, under the deterministic scheduler. Oracle: a shadow of the medium updated when a write
 * completes. A read returns the shadow at its completion; a request that did not complete OK moved no
 * data (read buffers keep their poison, the store matches the shadow); every request completes
 * exactly once.
 */
@ExtendWith(SeedExtension.class)
class SimDiskRandomizedTest
{
    private static final int SECTORS = 32;
    private static final int SLOTS = 12;
    private static final byte POISON = (byte)0xEE;

    @Test
    void readsSeeTheLastCompletedWriteAndFencedRequestsMoveNothing(final Seed seed)
    {
        seed.forEach(seed.seeds(), SimDiskRandomizedTest::runOne);
    }

    private static void runOne(final long seed)
    {
        final SplittableRandom rng = new SplittableRandom(seed);
        final VirtualClock clock = new VirtualClock();
        final SharedBlockStore store = new SharedBlockStore(SECTORS);
        final byte[] shadow = new byte[SECTORS * 512];
        final GuestMemory memory = GuestMemory.allocate(SLOTS * 0x2000L);
        final SimDisk[] disks = new SimDisk[2];
        final DeterministicScheduler scheduler = new DeterministicScheduler(seed, clock);
        for (int d = 0; d < disks.length; d++)
        {
            disks[d] = SimDisk.builder("d" + d, store).clock(clock).queues(2, 3).seed(seed * 3 + d)
                .latency(LatencyModel.uniform(0, 50_000)).build();
            scheduler.addAgent(new CardPoller(disks[d]));
        }

        final BlockIo[] ios = new BlockIo[SLOTS];
        final int[] state = new int[SLOTS]; // 0 idle, 1 in flight
        final int[] onDisk = new int[SLOTS];
        final int[] completions = new int[SLOTS];
        final int[] submitted = {0};
        for (int i = 0; i < SLOTS; i++)
        {
            ios[i] = new BlockIo(2);
        }

        final class Driver implements Agent, TimerSource
        {
            /** While requests remain to submit, it wants another try a little later. */
            public long nextEventNanos()
            {
                return submitted[0] < 100 ? clock.nanoTime() + 1_000 : NONE;
            }

            public int doWork()
            {
                int work = 0;
                final int choice = rng.nextInt(100);
                if (choice < 3)
                {
                    disks[rng.nextInt(2)].fence();
                    return 1;
                }
                if (choice < 6)
                {
                    // The test owns the fences: rejoin heals, and it lifts the fence itself.
                    final SimDisk disk = disks[rng.nextInt(2)];
                    disk.rejoin();
                    disk.unfence();
                    return 1;
                }
                if (choice < 8)
                {
                    disks[rng.nextInt(2)].inject(CardFault.ERROR_BURST, 1 + rng.nextInt(3));
                    return 1;
                }
                if (submitted[0] >= 100)
                {
                    return 0;
                }
                final int slot = rng.nextInt(SLOTS);
                if (state[slot] != 0)
                {
                    return 0;
                }
                final BlockIo io = ios[slot];
                final long gpa = slot * 0x2000L;
                final int operation = rng.nextInt(5);
                final int sectors = 1 + rng.nextInt(4);
                final long sector = rng.nextInt(SECTORS - sectors + 1);
                io.data().reset(memory);
                if (operation == BlockIo.READ || operation == BlockIo.WRITE)
                {
                    final int bytes = sectors * 512;
                    final int split = rng.nextInt(bytes + 1);
                    io.data().add(gpa, split);
                    io.data().add(gpa + 0x1000, bytes - split);
                    if (operation == BlockIo.READ)
                    {
                        memory.setMemory(gpa, 0x2000, POISON);
                    }
                    else
                    {
                        for (int b = 0; b < 0x2000; b += 8)
                        {
                            memory.putLong(gpa + b, rng.nextLong());
                        }
                    }
                    io.set(operation, sector);
                }
                else
                {
                    io.setRange(operation, sector, sectors);
                }
                final int d = rng.nextInt(2);
                if (disks[d].submit(rng.nextInt(2), io, slot, (token, status, length) ->
                {
                    complete((int)token, status, length);
                    return true;
                }))
                {
                    state[slot] = 1;
                    onDisk[slot] = d;
                    submitted[0]++;
                    work++;
                }
                return work;
            }

            private void complete(final int slot, final int status, final int length)
            {
                completions[slot]++;
                assertEquals(1, state[slot], "completion for an idle slot");
                state[slot] = 0;
                final BlockIo io = ios[slot];
                final long gpa = slot * 0x2000L;
                final int from = (int)io.sector() * 512;
                final int bytes = (int)io.data().totalLength();
                if (status != CardStatus.OK)
                {
                    assertTrue(status == CardStatus.CANCELLED || status == CardStatus.IO_ERROR, "status " + status);
                    assertEquals(0, length);
                    if (io.operation() == BlockIo.READ)
                    {
                        final byte[] guest = new byte[0x2000];
                        memory.getBytes(gpa, guest, 0, guest.length);
                        for (final byte b : guest)
                        {
                            assertEquals(POISON, b, "failed read moved data");
                        }
                    }
                    return;
                }
                switch (io.operation())
                {
                    case BlockIo.READ:
                    {
                        assertEquals(bytes, length);
                        final byte[] got = new byte[bytes];
                        io.data().copyOut(0, got, 0, bytes);
                        assertArrayEquals(Arrays.copyOfRange(shadow, from, from + bytes), got, "read data");
                        break;
                    }
                    case BlockIo.WRITE:
                    {
                        assertEquals(bytes, length);
                        io.data().copyOut(0, shadow, from, bytes);
                        for (long s = io.sector(); s < io.sector() + bytes / 512; s++)
                        {
                            assertEquals(store.lastVersion(), store.version(s), "version tag");
                        }
                        break;
                    }
                    case BlockIo.DISCARD:
                    case BlockIo.WRITE_ZEROES:
                        Arrays.fill(shadow, from, from + (int)io.sectorCount() * 512, (byte)0);
                        break;
                    default:
                        break;
                }
            }

            public String roleName()
            {
                return "driver";
            }
        }
        scheduler.addAgent(new Driver());
        // Fenced cards cancel what they hold, so every request completes, exactly once.
        assertTrue(scheduler.runUntil(() -> submitted[0] >= 100 && Arrays.stream(state).sum() == 0, 10_000_000_000L, 10_000_000),
            () -> "requests still outstanding: states=" + Arrays.toString(state) + " submitted=" + submitted[0] +
            " t=" + clock.nanoTime() + " next=" + scheduler.nextDeadline() + " " + disks[0] + " " + disks[1]);
        assertEquals(100, Arrays.stream(completions).sum());
        final byte[] medium = new byte[SECTORS * 512];
        store.data().getBytes(0, medium);
        if (!Arrays.equals(shadow, medium))
        {
            fail("store diverged from the completed writes");
        }
    }
}
