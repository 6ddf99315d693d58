package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.braid.mapper.QueueMap;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same controller on a real thread, fed by several producer threads. */
class HaControllerThreadedTest
{
    @Test
    void producersOnOtherThreadsDriveAFailover() throws Exception
    {
        final CardPool pool = new CardPool(8).add(0, 2, 0).add(1, 2, 0).add(2, 2, 0);
        final HaController ha = new HaController(SystemNanoClock.INSTANCE, new HealthConfig(), pool,
            new ActiveActivePolicy(6, DispatchMode.QUEUE_AFFINE), AllDownPolicy.failFast(), ProbeRequester.NONE, 64);
        final AgentRunner runner = new AgentRunner(new SleepingMillisIdleStrategy(1), Throwable::printStackTrace, null, ha);
        final Thread[] producers = new Thread[3];
        final CountDownLatch go = new CountDownLatch(1);
        for (int p = 0; p < producers.length; p++)
        {
            final int card = p;
            producers[p] = new Thread(() ->
            {
                try
                {
                    go.await();
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
                for (int i = 0; i < 100_000; i++)
                {
                    ha.onSuccess(card);
                    ha.onOldestInflightAge(card, 1000);
                    if (card == 2 && i == 50_000)
                    {
                        while (!ha.onLinkChange(2, false))
                        {
                            Thread.onSpinWait();
                        }
                    }
                }
            });
            producers[p].start();
        }
        AgentRunner.startOnThread(runner);
        try
        {
            go.countDown();
            for (final Thread t : producers)
            {
                t.join();
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ha.publisher().current().usesCard(2) && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
            final QueueMap m = ha.publisher().current();
            assertFalse(m.usesCard(2), m.toString());
            assertEquals(2, m.epoch());
            for (int g = 0; g < 6; g++)
            {
                assertEquals(1, m.routeCount(g));
            }
            assertEquals(0, ha.droppedEvents());
            final FailoverLog.Entry e = new FailoverLog.Entry();
            while (ha.failoverLog().appended() == 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
            assertTrue(ha.failoverLog().read(0, e));
            assertEquals(2, e.card());
            assertEquals(TransitionReason.LINK_DOWN, e.reason());
            assertEquals(2, e.epoch());
        }
        finally
        {
            runner.close();
        }
    }
}
