package dev.braid.testkit.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingLayoutTest
{
    @Test
    void splitAreasAreTightAndAligned()
    {
        final RingLayout layout = RingLayout.split(0x1001, 256, 4);
        assertEquals(0x1010, layout.descGpa());
        // 256 descriptors of 16 bytes.
        assertEquals(0x2010, layout.availGpa());
        // avail: 2 + 2 + 2*256 + 2 = 518 bytes -> 0x2216, rounded up to 4.
        assertEquals(0x2218, layout.usedGpa());
        // used: 2 + 2 + 8*256 + 2 = 2054 bytes -> 0x2A1E, rounded up to 16.
        assertEquals(0x2A20, layout.indirectGpa());
        assertEquals(0x2A20 + 256 * 4 * 16, layout.endGpa());
        assertEquals(0x2A20 + 3 * 64, layout.indirectTableGpa(3));
        assertEquals(layout.availGpa(), layout.driverAreaGpa());
        assertEquals(layout.usedGpa(), layout.deviceAreaGpa());
        assertThrows(IllegalStateException.class, layout::driverEventGpa);
    }

    @Test
    void packedAreasAreTightAndAligned()
    {
        final RingLayout layout = RingLayout.packed(0x2004, 10, 0);
        assertEquals(0x2010, layout.descGpa());
        assertEquals(0x2010 + 160, layout.driverEventGpa());
        assertEquals(0x2010 + 164, layout.deviceEventGpa());
        assertEquals(0x2010 + 168, layout.endGpa());
        assertEquals(0, layout.indirectGpa());
        assertTrue(layout.packed());
        assertThrows(IllegalStateException.class, layout::usedGpa);
    }

    @Test
    void rejectsBadSizesAlignmentAndOverlap()
    {
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(0, 100, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.packed(0, 32769, 0));
        RingLayout.packed(0, 32768, 0);
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(8, 0x8, 0x1000, 0x2000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(8, 0x0, 0x1001, 0x2000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(8, 0x0, 0x1000, 0x2002, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.packed(8, 0x0, 0x1002, 0x2000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(8, 0x0, 0x40, 0x2000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(8, 0x0, 0x1000, 0x2000, 0x2010, 2));
        final RingLayout explicit = RingLayout.split(8, 0x3000, 0x1000, 0x2000, 0x4000, 2);
        assertEquals(0x4000 + 8 * 2 * 16, explicit.endGpa());
    }
}
