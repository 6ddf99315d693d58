package dev.braid.ha;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AllDownPolicyTest
{
    @ParameterizedTest(name = "deadline={0} since={1} now={2} -> {3}")
    @CsvSource({
        "100, 0,    0,    WAIT",
        "100, 0,    99,   WAIT",
        "100, 0,    100,  FAIL",
        "100, 0,    5000, FAIL",
        "100, 1000, 1050, WAIT",
        "100, -50,  49,   WAIT",
        "100, -50,  50,   FAIL",
    })
    void queueUntilDeadline(final long deadline, final long since, final long now, final AllDownAction expected)
    {
        assertEquals(expected, AllDownPolicy.queueUntilDeadline(deadline).allDownAction(now, since));
    }

    @Test
    void failFastAlwaysFails()
    {
        assertEquals(AllDownAction.FAIL, AllDownPolicy.failFast().allDownAction(0, 0));
        assertEquals(AllDownAction.FAIL, AllDownPolicy.failFast().allDownAction(Long.MAX_VALUE, 0));
        assertEquals(AllDownPolicy.Mode.FAIL_FAST, AllDownPolicy.failFast().mode());
    }

    @Test
    void noInfiniteWait()
    {
        assertThrows(IllegalArgumentException.class, () -> AllDownPolicy.queueUntilDeadline(0));
        assertThrows(IllegalArgumentException.class, () -> Failback.delayed(0));
        final AllDownPolicy p = AllDownPolicy.queueUntilDeadline(Long.MAX_VALUE);
        assertEquals(AllDownAction.WAIT, p.allDownAction(Long.MAX_VALUE - 1, 0));
    }
}
