package dev.braid.virtio.card;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FreeSlotsTest
{
    @Test
    void slotsComeOutInOrderAndAFreedSlotIsTakenNext()
    {
        final FreeSlots free = new FreeSlots(3);
        assertEquals(0, free.taken());
        assertEquals(0, free.take());
        assertEquals(1, free.take());
        assertEquals(2, free.take());
        assertTrue(free.isEmpty());
        assertEquals(3, free.taken());

        free.give(1);
        assertFalse(free.isEmpty());
        assertEquals(2, free.taken());
        assertEquals(1, free.take());
        assertTrue(free.isEmpty());
    }

    @Test
    void depthZeroIsEmpty()
    {
        final FreeSlots free = new FreeSlots(0);
        assertTrue(free.isEmpty());
        assertEquals(0, free.taken());
    }
}
