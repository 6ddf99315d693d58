package dev.braid.testkit.guest;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleMarkersTest
{
    @Test
    void markersAreFoundAfterKernelOutputOnTheSameLine()
    {
        final ConsoleMarkers markers = new ConsoleMarkers(1_000);
        markers.onLine("[    1.2] virtio_blk virtio0: [vda] 32768 512-byte logical blocks BRAID-BOOTED uptime=1.3\r", 3_000);
        markers.onLine("BRAID-RESULT md5=abc", 4_000);
        markers.onLine("[    2.0] random: crng init done BRAID-RESULT md5=def", 5_000);
        markers.onLine("BRAID-RESULT cmd=a=b c", 6_000);
        assertFalse(markers.done());
        assertEquals(-1, markers.doneRc());
        assertEquals(-1, markers.doneAfterNanos());
        markers.onLine("BRAID-DONE rc=3 uptime=4.5", 7_000);
        markers.onLine("BRAID-DONE rc=0", 8_000);

        assertEquals(2_000, markers.bootedAfterNanos());
        assertTrue(markers.done());
        assertEquals(3, markers.doneRc(), "the first BRAID-DONE counts");
        assertEquals(6_000, markers.doneAfterNanos());
        assertEquals(Map.of("md5", "def", "cmd", "a=b c"), markers.results());
    }

    @Test
    void malformedMarkersAreIgnored()
    {
        final ConsoleMarkers markers = new ConsoleMarkers(0);
        markers.onLine("BRAID-RESULT novalue", 1);
        markers.onLine("BRAID-RESULT =x", 1);
        markers.onLine("BRAID-DONE rc=", 1);
        markers.onLine("BRAID-DONE rc=-1", 1);
        assertEquals(Map.of(), markers.results());
        assertFalse(markers.done());
        assertEquals(-1, markers.bootedAfterNanos());
    }
}
