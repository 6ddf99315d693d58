package dev.braid.ha;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.braid.testkit.Seed;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailoverLogTest
{
    @Test
    void keepsTheLastEntriesAndRejectsOverwrittenOnes()
    {
        final FailoverLog log = new FailoverLog(4);
        final FailoverLog.Entry e = new FailoverLog.Entry();
        assertFalse(log.read(0, e));
        for (int i = 0; i < 6; i++)
        {
            log.append(i * 10L, i, HealthState.UP, HealthState.DOWN, TransitionReason.LINK_DOWN, 100 + i);
        }
        assertEquals(6, log.appended());
        assertFalse(log.read(1, e), "overwritten");
        assertFalse(log.read(6, e), "not written yet");
        assertFalse(log.read(-1, e));
        assertTrue(log.read(2, e));
        assertEquals(2, e.seq());
        assertEquals(20, e.timeNanos());
        assertEquals(2, e.card());
        assertEquals(HealthState.UP, e.from());
        assertEquals(HealthState.DOWN, e.to());
        assertEquals(TransitionReason.LINK_DOWN, e.reason());
        assertEquals(102, e.epoch());
        assertTrue(log.read(5, e));
        assertEquals(105, e.epoch());
    }

    /** A reader racing the writer never accepts a torn entry. */
    @Test
    void concurrentReaderSeesOnlyWholeEntries() throws InterruptedException
    {
        final FailoverLog log = new FailoverLog(8);
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong torn = new AtomicLong();
        final Thread reader = new Thread(() ->
        {
            final FailoverLog.Entry e = new FailoverLog.Entry();
            while (!done.get())
            {
                final long n = log.appended();
                for (long s = Math.max(0, n - 8); s < n; s++)
                {
                    if (log.read(s, e))
                    {
                        accepted.incrementAndGet();
                        final HealthState to = HealthState.values()[(int)(s % 4)];
                        if (e.timeNanos() != s || e.epoch() != s * 3 || e.card() != (int)(s & 0x7FFF) || e.to() != to)
                        {
                            torn.incrementAndGet();
                        }
                    }
                }
            }
        });
        reader.start();
        final int count = Math.max(200_000, Seed.configuredSeeds() * 100);
        for (long s = 0; s < count; s++)
        {
            log.append(s, (int)(s & 0x7FFF), HealthState.UP, HealthState.values()[(int)(s % 4)],
                TransitionReason.ERRORS, s * 3);
        }
        done.set(true);
        reader.join();
        System.out.println("failover log race: accepted=" + accepted.get() + " torn=" + torn.get());
        assertEquals(0, torn.get());
    }
}
