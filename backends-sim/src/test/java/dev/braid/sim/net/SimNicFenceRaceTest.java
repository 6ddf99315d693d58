package dev.braid.sim.net;

import dev.braid.testkit.Seed;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tx fence invariant under a real race: a queue thread transmits and polls (50 µs latency on the
 * real clock, so frames are pending) while another thread fences. Sending a frame means reading it
 * from guest memory, so once fence() returns no frame may reach the wire, and every pending frame
 * completes CANCELLED.
 */
class SimNicFenceRaceTest
{
    static final int DEPTH = 16;

    @Test
    void noFrameLeavesAfterFenceReturns() throws Exception
    {
        final GuestMemory memory = GuestMemory.allocate(1 << 16);
        final PeerHost peer = new PeerHost(0x0200_0000_00FEL, FrameBuilder.ipv4(10, 0, 0, 254));
        final L2Segment segment = new L2Segment(peer);
        final SimNic nic = new SimNic("race", FrameBuilder.macBytes(0x0200_0000_0001L), segment,
            SystemNanoClock.INSTANCE, 1, DEPTH, 1024, 50_000);
        final byte[] frame = new byte[FrameDescriptor.MAX_FRAME_LENGTH];
        final int length = FrameBuilder.arpRequest(frame, 0x0200_0000_0001L, FrameBuilder.ipv4(10, 0, 0, 1), peer.ip());
        memory.putBytes(0x100, frame, 0, length);
        final NetFrame[] frames = new NetFrame[DEPTH];
        for (int i = 0; i < DEPTH; i++)
        {
            frames[i] = new NetFrame(1);
            frames[i].data().reset(memory);
            frames[i].data().add(0x100, length);
        }

        final int rounds = Math.max(5, Seed.configuredSeeds() / 100);
        for (int round = 0; round < rounds; round++)
        {
            nic.unfence();
            final long txBefore = nic.txFrames();
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicInteger outstanding = new AtomicInteger();
            final AtomicLong completed = new AtomicLong();
            final AtomicLong cancelled = new AtomicLong();
            final Thread driver = new Thread(() ->
            {
                long counter = 0;
                while (!stop.get())
                {
                    if (nic.transmit(0, frames[(int)(counter++ % DEPTH)], counter, (token, status, bytes) ->
                    {
                        outstanding.decrementAndGet();
                        completed.incrementAndGet();
                        if (status == CardStatus.CANCELLED)
                        {
                            cancelled.incrementAndGet();
                        }
                        return true;
                    }))
                    {
                        outstanding.incrementAndGet();
                    }
                    nic.poll(0);
                }
            });
            driver.start();
            while (completed.get() < 50)
            {
                Thread.onSpinWait();
            }
            nic.fence();
            final long sent = segment.framesFromGuests();
            while (outstanding.get() != 0)
            {
                Thread.onSpinWait();
            }
            stop.set(true);
            driver.join();
            assertEquals(sent, segment.framesFromGuests(), "a frame left after fence() returned, round " + round);
            assertEquals(completed.get() - cancelled.get(), nic.txFrames() - txBefore, "every frame either went out or was cancelled");
        }
    }
}
