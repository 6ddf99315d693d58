package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestBufferPoolTest
{
    private final GuestMemory memory = GuestMemory.allocate(0x10000);

    @Test
    void allocatesFixedSlotsAndReusesFreedOnes()
    {
        final GuestBufferPool pool = new GuestBufferPool(memory, 0x4000, 512, 4);
        assertEquals(0x4000, pool.allocate());
        assertEquals(0x4200, pool.allocate());
        assertEquals(0x4400, pool.allocate());
        assertEquals(0x4600, pool.allocate());
        assertEquals(GuestBufferPool.NO_BUFFER, pool.allocate());
        pool.free(0x4200);
        assertEquals(1, pool.available());
        assertFalse(pool.isAllocated(1));
        assertEquals(0x4200, pool.allocate());
        assertTrue(pool.isAllocated(1));
        assertEquals(3, pool.slotOf(0x47FF));
        assertEquals(-1, pool.slotOf(0x4800));
        assertEquals(0x4800, pool.endGpa());
    }

    @Test
    void rejectsMisuse()
    {
        final GuestBufferPool pool = new GuestBufferPool(memory, 0x4000, 512, 4);
        final long gpa = pool.allocate();
        pool.free(gpa);
        assertThrows(IllegalArgumentException.class, () -> pool.free(gpa));
        assertThrows(IllegalArgumentException.class, () -> pool.free(0x4001));
        assertThrows(IllegalArgumentException.class, () -> pool.free(0x3000));
        assertThrows(IllegalArgumentException.class, () -> new GuestBufferPool(memory, 0xF000, 4096, 2));
        assertThrows(IllegalArgumentException.class, () -> new GuestBufferPool(memory, 0, 0, 2));
    }
}
