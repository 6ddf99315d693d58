package dev.braid.aggregator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A card that finishes its fence in the background (an NBD card draining the writes its server was
 * sent): the control agent begins the fence and goes on; nothing of the card is replayed until the
 * card says the fence is complete, and the card is not readmitted before that either.
 */
class BackgroundFenceTest
{
    /** Keeps what it held at the fence, like a server still busy with it; the fence completes when told. */
    static final class DrainingCard extends ZombieCompletionTest.ZombieCard
    {
        boolean drained;
        int fences;
        boolean blocking;

        DrainingCard(final String name)
        {
            super(name);
        }

        public void fence()
        {
            if (!blocking)
            {
                fail("the aggregator must not block on a card's fence");
            }
            super.fence();
        }

        public void beginFence()
        {
            fences++;
            blocking = true;
            super.fence();
            blocking = false;
        }

        public boolean isFenceComplete()
        {
            return drained;
        }
    }

    final DrainingCard[] cards = {new DrainingCard("a"), new DrainingCard("b")};
    final HandDrivenBlkRig rig = new HandDrivenBlkRig(cards, 4, true, "background-fence", null);

    @Test
    void nothingIsReplayedUntilTheCardCompletesItsFence()
    {
        final int x = rig.postAndDispatch();
        final int y = 1 - x;
        rig.work(x);
        assertEquals(1, cards[x].started.size());

        final CardPort<?> port = rig.device.port(x);
        final int generation = port.fenceGeneration();
        port.fence();
        assertEquals(1, cards[x].fences);
        assertTrue(port.isFenced());
        assertTrue(port.isFencePending());
        for (int i = 0; i < 5; i++)
        {
            rig.front.doWork();
            rig.work(y);
            assertEquals(0, rig.front.outstanding(y), "replayed while the card's fence was still draining");
            assertFalse(port.completeFence());
            assertFalse(port.unfence(), "readmitted before its fence completed");
        }
        assertEquals(generation, port.fenceGeneration(), "the generation moves only with the completed fence");

        cards[x].drained = true;
        assertTrue(port.completeFence());
        assertEquals(generation + 1, port.fenceGeneration());
        rig.front.doWork();
        assertEquals(1, rig.front.outstanding(y), "replayed once the fence completed");
        rig.work(y);
        rig.work(y);
        rig.front.doWork();
        assertEquals(1, rig.reap());
        assertEquals(0, rig.front.inFlight());
        rig.work(x); // its worker catches up with the new generation
        assertTrue(port.unfence());
        assertEquals(1, cards[x].fences, "one fence, begun once");
        assertEquals(1, cards[x].release(), "the card's late answer for what it held");
        rig.front.doWork();
        assertEquals(0, rig.reap(), "dropped at the closed gate");
    }
}
