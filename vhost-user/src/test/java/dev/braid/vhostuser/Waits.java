package dev.braid.vhostuser;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bounded polling waits (1 ms between looks) for what another thread (an agent, a guest) makes true. */
final class Waits
{
    private Waits()
    {
    }

    /**
     * Waits until {@code condition} holds or {@code timeout} passed; returns whether it held at the
     * last look (each look is one call: a condition may consume what it looks at, as an eventfd read).
     */
    static boolean until(final BooleanSupplier condition, final Duration timeout) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        boolean met = condition.getAsBoolean();
        while (!met && System.nanoTime() < deadline)
        {
            Thread.sleep(1);
            met = condition.getAsBoolean();
        }
        return met;
    }

    /** Fails with {@code what} unless {@code condition} holds within {@code timeout}. */
    static void assertWithin(final Duration timeout, final BooleanSupplier condition, final String what)
        throws InterruptedException
    {
        assertTrue(until(condition, timeout), what);
    }
}
