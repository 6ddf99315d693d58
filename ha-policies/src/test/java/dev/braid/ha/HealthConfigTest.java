package dev.braid.ha;

import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HealthConfigTest
{
    @Test
    void defaultsAreValid()
    {
        final HealthConfig c = new HealthConfig();
        assertSame(c, c.validate());
    }

    @Test
    void eachBadFieldIsNamedOnOneLine()
    {
        check(c -> c.suspectAfterErrors(0), "suspectAfterErrors must be >= 1: 0");
        check(c -> c.suspectAfterErrors(5).downAfterErrors(4), "downAfterErrors (4) must be >= suspectAfterErrors (5)");
        check(c -> c.downAfterErrors(5000), "downAfterErrors must be <= 4096: 5000");
        check(c -> c.errorWindowNanos(0), "errorWindowNanos must be > 0: 0");
        check(c -> c.completionTimeoutNanos(-1), "completionTimeoutNanos must be > 0: -1");
        check(c -> c.probeIntervalNanos(0), "probeIntervalNanos must be > 0: 0");
        check(c -> c.upAfterProbes(0), "upAfterProbes must be >= 1: 0");
        check(c -> c.minDownNanos(0), "minDownNanos must be > 0: 0");
        check(c -> c.minDownNanos(100).probeIntervalNanos(10).maxDownNanos(99),
            "maxDownNanos (99) must be >= max(minDownNanos, probeIntervalNanos) (100)");
        check(c -> c.stableNanos(0), "stableNanos must be > 0: 0");
    }

    @Test
    void holdIsClampedAndNeverOverflows()
    {
        final HealthConfig c = new HealthConfig().minDownNanos(3).probeIntervalNanos(1).maxDownNanos(Long.MAX_VALUE);
        assertEquals(3, c.holdNanos(0));
        assertEquals(12, c.holdNanos(2));
        assertEquals(Long.MAX_VALUE, c.holdNanos(Integer.MAX_VALUE));
    }

    private static void check(final UnaryOperator<HealthConfig> change, final String message)
    {
        final IllegalStateException ex =
            assertThrows(IllegalStateException.class, () -> change.apply(new HealthConfig()).validate());
        assertEquals(message, ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
    }
}
