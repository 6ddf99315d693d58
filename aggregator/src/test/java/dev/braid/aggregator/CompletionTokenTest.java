package dev.braid.aggregator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CompletionTokenTest
{
    @Test
    void fieldsRoundTripAtTheirLimits()
    {
        final long token = CompletionToken.encode(0xFFFF, 32767, 0x1_2345, CompletionToken.MAX_ATTEMPT);
        assertEquals(0xFFFF, CompletionToken.guestQueue(token));
        assertEquals(32767, CompletionToken.head(token));
        assertEquals(0x2345, CompletionToken.fenceGeneration(token));
        assertEquals(CompletionToken.MAX_ATTEMPT, CompletionToken.attempt(token));
        assertTrue(CompletionToken.isAttempt(token, CompletionToken.MAX_ATTEMPT));
        assertFalse(CompletionToken.isAttempt(token, 0));
        // A counter that keeps growing (probes, relays) compares on its low 16 bits.
        assertTrue(CompletionToken.isAttempt(CompletionToken.encode(1, 2, 3, 0x1_0005), 0x1_0005));
    }

    @Test
    void maxAttemptsMustFitTheToken()
    {
        assertThrows(IllegalArgumentException.class, () -> new AggregatorContext().maxAttempts(65536).validate());
        new AggregatorContext().maxAttempts(65535).validate();
    }
}
