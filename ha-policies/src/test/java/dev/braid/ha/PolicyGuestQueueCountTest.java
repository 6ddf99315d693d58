package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Both map policies take 1..65536 guest queues, the queue map's 16-bit guest queue space. */
class PolicyGuestQueueCountTest
{
    static Stream<Arguments> policies()
    {
        final IntFunction<MapPolicy> activeActive = g -> new ActiveActivePolicy(g, DispatchMode.QUEUE_AFFINE);
        final IntFunction<MapPolicy> activePassive = g -> new ActivePassivePolicy(g, Failback.immediate());
        return Stream.of(Arguments.of("active-active", activeActive), Arguments.of("active-passive", activePassive));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("policies")
    void acceptsOneToSixtyFiveThousandFiveHundredThirtySixAndNothingElse(final String name, final IntFunction<MapPolicy> policy)
    {
        assertEquals(1, policy.apply(1).guestQueueCount());
        assertEquals(0x10000, policy.apply(0x10000).guestQueueCount());
        for (final int bad : new int[] {0, -1, 0x10001, Integer.MIN_VALUE})
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> policy.apply(bad), name + " " + bad);
            assertEquals("guest queue count must be in [1, 65536]: " + bad, e.getMessage());
        }
    }

    @Test
    void activeActiveReportsABadCountBeforeAMissingDispatchMode()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ActiveActivePolicy(0, null));
        assertEquals("guest queue count must be in [1, 65536]: 0", e.getMessage());
    }
}
