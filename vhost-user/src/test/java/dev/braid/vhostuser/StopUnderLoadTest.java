package dev.braid.vhostuser;

import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.VirtioFeatures;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.braid.vhostuser.BlkEndToEndTest.DATA_GPA;
import static dev.braid.vhostuser.BlkEndToEndTest.HEADER_GPA;
import static dev.braid.vhostuser.BlkEndToEndTest.QUEUE_SIZE;
import static dev.braid.vhostuser.BlkEndToEndTest.RING_GPA;
import static dev.braid.vhostuser.BlkEndToEndTest.STATUS_GPA;
import static dev.braid.vhostuser.VhostUserDescriptor.FLAGS_VERSION;
import static dev.braid.vhostuser.VhostUserDescriptor.HEADER_LENGTH;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A stop never abandons a request the guest posted while it ran. The back end's stop waits until
 * nothing is in flight, then stops the agent thread, whose last pass may still pop a chain the guest
 * posted after that wait; that chain must be completed before GET_VRING_BASE answers, or the base
 * it reports (past the chain) loses it for the next start.
 *
 * <p>{@link #aChainTheLastPassTakesIsCompletedBeforeTheBaseIsReported} makes that pass happen on
 * purpose with Braid's front end: ring 0's call eventfd is a blocking one whose counter the test
 * fills, so the agent thread blocks in ring 0's interrupt, inside its duty cycle, with nothing in
 * flight; GET_VRING_BASE's stop then drains at once and waits for the thread; the guest posts on
 * ring 1 during the stop and the test frees the thread, whose pass goes on to ring 1's front queue
 * and pops the chain. {@link #everyStopUnderAPostingGuestReportsTheBaseOfWhatWasCompleted} stops
 * and restarts a ring many times under a guest posting one request after another.
 */
class StopUnderLoadTest
{
    static final int STOPS = 200;
    /** Ring 1 and its request's buffers, beside BlkEndToEndTest's layout for ring 0. */
    static final long SECOND_RING_GPA = 0x20000;
    static final long HEADER_1_GPA = 0x41000;
    static final long DATA_1_GPA = 0x90000;
    static final long STATUS_1_GPA = 0x7F100;

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();

    @Test
    void aChainTheLastPassTakesIsCompletedBeforeTheBaseIsReported() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(8192);
        final List<BlockCard> cards = List.of(SimDisk.builder("a", store).queues(2, 64)
            .latency(LatencyModel.uniform(5_000, 50_000)).build());
        final BlkBackendDevice blk = new BlkBackendDevice(cards, 2, 256, 1);
        rig.serve(blk, "blk2.sock");
        final int[] kicks = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
        // Ring 0's call: blocking, so that the back end's interrupt write waits while its counter is full.
        final int blockingCall = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        final int[] calls = {blockingCall, TestFrontEnd.eventfd()};
        final UnsafeBuffer word = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(8, 8));
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            final RingLayout[] layouts = {RingLayout.split(RING_GPA, QUEUE_SIZE, 4), RingLayout.split(SECOND_RING_GPA, QUEUE_SIZE, 4)};
            fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
            final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.setU64(VhostUserRequest.SET_FEATURES, features & ~(1L << VirtioFeatures.EVENT_IDX) &
                ~(1L << VhostUserDescriptor.F_PROTOCOL_FEATURES));
            fe.send(VhostUserRequest.SET_MEM_TABLE, FLAGS_VERSION, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
            for (int q = 0; q < 2; q++)
            {
                BlkEndToEndTest.ringSetup(fe, q, layouts[q], kicks[q], calls[q]);
            }
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning(), "both rings run");
            // The start wrote each call fd once; empty ring 0's, then fill it: the next interrupt blocks.
            assertEquals(8, Libc.read(blockingCall, word.addressOffset(), 8));
            word.putLong(0, 0xFFFF_FFFF_FFFF_FFFEL);
            assertEquals(8, Libc.write(blockingCall, word.addressOffset(), 8));

            // Ring 0: one request; its completion's interrupt blocks the agent thread mid duty cycle.
            final SplitDriverQueue ring0 = new SplitDriverQueue(fe.memory, layouts[0], false);
            final SplitDriverQueue ring1 = new SplitDriverQueue(fe.memory, layouts[1], false);
            post(fe, ring0, kicks[0], HEADER_GPA, DATA_GPA, STATUS_GPA);
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (usedIndex(fe, layouts[0]) != 1 && System.nanoTime() < deadline)
            {
                Thread.onSpinWait();
            }
            assertEquals(1, usedIndex(fe, layouts[0]), "ring 0's request completed");

            // The stop: it finds nothing in flight and waits for the blocked agent thread.
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            while (blk.kickWaiter() != null && System.nanoTime() < deadline)
            {
                Thread.onSpinWait();
            }
            assertNull(blk.kickWaiter(), "the stop is stopping the agent thread");
            Thread.sleep(50); // past AgentRunner.close's running flag: the thread ends after this duty cycle
            // The guest posts on ring 1 during the stop; then the test frees the thread (reads the counter).
            post(fe, ring1, kicks[1], HEADER_1_GPA, DATA_1_GPA, STATUS_1_GPA);
            assertEquals(8, Libc.read(blockingCall, word.addressOffset(), 8));
            final UnsafeBuffer base0 = fe.reply(VhostUserRequest.GET_VRING_BASE);
            assertEquals(1, base0.getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN), "ring 0 consumed its one chain");
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(1, 0));
            final int base1 = fe.reply(VhostUserRequest.GET_VRING_BASE).getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN);
            final int used1 = usedIndex(fe, layouts[1]);
            System.out.println("last pass: ring 1 base " + base1 + ", used " + used1 + ", late stops " + blk.lateStops());
            assertEquals(used1, base1, "ring 1: every chain before the reported base was completed");
            if (base1 == 1)
            {
                assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, fe.memory.getByte(STATUS_1_GPA), "and completed OK");
                assertEquals(1, blk.lateStops(), "the agents' last pass took it, the stop completed it");
            }
            assertFalse(rig.logs().stream().anyMatch(l -> l.contains("abandoned")), "nothing abandoned: " + rig.logs());
        }
        finally
        {
            for (int q = 0; q < 2; q++)
            {
                Libc.close(kicks[q]);
                Libc.close(calls[q]);
            }
        }
    }

    /** Posts one 4 KiB blk read of sector 0 (header, data, status at the given addresses) and kicks. */
    private static void post(final TestFrontEnd fe, final SplitDriverQueue driver, final int kick, final long header,
        final long data, final long status)
    {
        fe.memory.putInt(header, VirtioBlk.VIRTIO_BLK_T_IN);
        fe.memory.putInt(header + 4, 0);
        fe.memory.putLong(header + 8, 0);
        fe.memory.putByte(status, (byte)0x7F);
        assertTrue(driver.addChain(new BufferChain(3).readable(header, 16).writable(data, 4096).writable(status, 1), false) >= 0);
        driver.publish();
        fe.kick(kick);
    }

    private static int usedIndex(final TestFrontEnd fe, final RingLayout layout)
    {
        return fe.memory.getShort(layout.usedGpa() + 2) & 0xFFFF;
    }

    @Test
    void everyStopUnderAPostingGuestReportsTheBaseOfWhatWasCompleted() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(8192);
        final List<BlockCard> cards = List.of(SimDisk.builder("a", store).latency(LatencyModel.uniform(5_000, 50_000)).build());
        final BlkBackendDevice blk = new BlkBackendDevice(cards, 1, 256, 1);
        rig.serve(blk, "blk.sock");
        final int kick = TestFrontEnd.eventfd();
        final int call = TestFrontEnd.eventfd();
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            final RingLayout layout = RingLayout.split(RING_GPA, QUEUE_SIZE, 4);
            BlkEndToEndTest.qemuSetup(fe, layout, kick, call, false);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());

            final Poster poster = new Poster(fe, new SplitDriverQueue(fe.memory, layout, false), kick);
            final Thread thread = new Thread(poster, "stop-under-load-poster");
            thread.start();
            int lost = 0;
            int stops = 0;
            try
            {
                for (; stops < STOPS && lost == 0; stops++)
                {
                    final long before = poster.completed.get();
                    while (poster.completed.get() < before + 1 && poster.failure.get() == null)
                    {
                        Thread.onSpinWait();
                    }
                    fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
                    final UnsafeBuffer reply = fe.reply(VhostUserRequest.GET_VRING_BASE);
                    final int base = reply.getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN);
                    final int used = fe.memory.getShort(layout.usedGpa() + 2) & 0xFFFF;
                    assertFalse(rig.backend().isDeviceRunning());
                    lost = (base - used) & 0xFFFF;
                    // Restart at the base, as QEMU does after a vhost stop without a reset.
                    fe.send(VhostUserRequest.SET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, base));
                    fe.setU64(VhostUserRequest.SET_VRING_KICK, 0, kick);
                    fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
                    assertTrue(rig.backend().isDeviceRunning(), "restarted after stop " + stops);
                }
            }
            finally
            {
                poster.running.set(false);
                thread.join(15_000);
            }
            assertFalse(thread.isAlive(), "the poster ended (before the front end's memory goes)");
            System.out.println("stop under load: " + stops + " stops, " + poster.completed.get() + " requests completed, " +
                blk.lateStops() + " stops completed a request taken after the drain, " + lost + " lost at the last stop");
            assertEquals(0, lost, "stop " + stops + ": the base is past the used index, a consumed request was never completed");
            assertNull(poster.failure.get(), "the poster's requests all completed");
            assertNull(poster.failure.get(), "the poster's requests all completed");
            assertTrue(poster.completed.get() >= STOPS, "the guest posted all along: " + poster.completed.get());
            assertFalse(rig.logs().stream().anyMatch(l -> l.contains("abandoned")), "nothing abandoned: " + rig.logs());
        }
        finally
        {
            Libc.close(kick);
            Libc.close(call);
        }
    }

    /**
     * The guest: posts one blk read, waits for its used element, posts the next, until told to
     * stop; then waits for the last one (the restarted ring serves it). Its own thread; the driver
     * queue is its alone.
     */
    static final class Poster implements Runnable
    {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong completed = new AtomicLong();
        final AtomicReference<String> failure = new AtomicReference<>();
        private final TestFrontEnd fe;
        private final SplitDriverQueue driver;
        private final int kick;

        Poster(final TestFrontEnd fe, final SplitDriverQueue driver, final int kick)
        {
            this.fe = fe;
            this.driver = driver;
            this.kick = kick;
        }

        public void run()
        {
            final int[] got = {0};
            while (running.get())
            {
                fe.memory.putInt(HEADER_GPA, VirtioBlk.VIRTIO_BLK_T_IN);
                fe.memory.putInt(HEADER_GPA + 4, 0);
                fe.memory.putLong(HEADER_GPA + 8, 0);
                final int head = driver.addChain(new BufferChain(3).readable(HEADER_GPA, 16).writable(DATA_GPA, 4096)
                    .writable(STATUS_GPA, 1), false);
                if (head < 0)
                {
                    failure.set("no free descriptor");
                    return;
                }
                driver.publish();
                if (driver.needsKick())
                {
                    fe.kick(kick);
                }
                got[0] = 0;
                // A lost request is never used: give up after a while rather than hang the test (a
                // stop and restart take milliseconds).
                final long deadline = System.nanoTime() + 5_000_000_000L;
                while (got[0] == 0)
                {
                    driver.reap((id, len) -> got[0]++);
                    if (System.nanoTime() > deadline)
                    {
                        failure.set("request at avail index " + (driver.availIndex() - 1) + " never completed");
                        return;
                    }
                    Thread.onSpinWait();
                }
                completed.incrementAndGet();
            }
        }
    }
}
