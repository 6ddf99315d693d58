package dev.braid.aggregator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CompletionTokenTest
{
    @Test
    void fieldsRoundTripAtTheirLimits()
    {
        final int queue = CompletionToken.MAX_GUEST_QUEUES - 1;
        final long token = CompletionToken.encode(queue, 0xFFFF, 0x1_2345, CompletionToken.MAX_ATTEMPT);
        assertEquals(queue, CompletionToken.guestQueue(token));
        assertEquals(0xFFFF, CompletionToken.head(token));
        assertEquals(0x2345, CompletionToken.fenceGeneration(token));
        assertTrue(CompletionToken.isGeneration(token, 0x7_2345));
        assertFalse(CompletionToken.isGeneration(token, 0x2344));
        assertEquals(CompletionToken.MAX_ATTEMPT, CompletionToken.attempt(token));
        assertTrue(CompletionToken.isAttempt(token, CompletionToken.MAX_ATTEMPT));
        assertFalse(CompletionToken.isAttempt(token, 0));
        // A counter that keeps growing (probes, relays) compares on its low 20 bits.
        assertTrue(CompletionToken.isAttempt(CompletionToken.encode(1, 2, 3, 0x10_0005), 0x10_0005));
        assertTrue(CompletionToken.isAttempt(CompletionToken.encode(1, 2, 3, 0x10_0005), 0x5));
    }

    @Test
    void fieldsDoNotBleedIntoEachOther()
    {
        final long token = CompletionToken.encode(0, 0, 0, -1);
        assertEquals(0, CompletionToken.guestQueue(token));
        assertEquals(0, CompletionToken.head(token));
        assertEquals(0, CompletionToken.fenceGeneration(token));
        final long gen = CompletionToken.encode(0, 0, -1, 0);
        assertEquals(0, CompletionToken.head(gen));
        assertEquals(0, CompletionToken.attempt(gen));
        final long head = CompletionToken.encode(0, -1, 0, 0);
        assertEquals(0, CompletionToken.guestQueue(head));
        assertEquals(0, CompletionToken.fenceGeneration(head));
    }

    @Test
    void maxAttemptsMustFitTheToken()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new AggregatorContext().maxAttempts(CompletionToken.MAX_ATTEMPT + 1).validate());
        new AggregatorContext().maxAttempts(CompletionToken.MAX_ATTEMPT).validate();
    }

    @Test
    void aDeviceWithMoreGuestQueuesThanATokenCanNameIsRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> new DeviceCompletionSink(
            new dev.braid.mapper.ring.ManyToOneCompletionRing[CompletionToken.MAX_GUEST_QUEUES + 1]));
    }
}
