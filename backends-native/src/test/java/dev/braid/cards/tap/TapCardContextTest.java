package dev.braid.cards.tap;

import dev.braid.testkit.TapNetwork;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TapCardContextTest
{
    @Test
    void badSpecsGetOneLineErrorsNamingThem()
    {
        assertOneLine(() -> new TapCardContext().spec("tap:").conclude(), "interface name is required");
        assertOneLine(() -> new TapCardContext().spec("tun0").conclude(), "'tun0' is not tap:IFNAME");
        assertOneLine(() -> new TapCardContext().spec("tap:abcdefghijklmnop").conclude(), "'abcdefghijklmnop' is longer than 15");
        assertOneLine(() -> new TapCardContext().spec("tap:a/b").conclude(), "'a/b' is not a valid Linux name");
        assertOneLine(() -> new TapCardContext().spec("tap:ok").queueCount(0).conclude(), "queueCount 0");
        assertOneLine(() -> new TapCardContext().spec("tap:ok").vnetHeaderLength(11).conclude(), "vnetHeaderLength 11");
    }

    @Test
    void fifteenBytesIsTheLongestName()
    {
        final TapCardContext context = new TapCardContext().spec("tap:abcdefghijklmno").conclude();
        assertEquals("abcdefghijklmno", context.ifname());
        assertEquals("abcdefghijklmno", context.name());
        assertEquals(12, context.vnetHeaderLength());
    }

    @Test
    void anInterfaceThatIsNoTapIsRefusedInOneLine()
    {
        TapNetwork.requirePeers();
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> new TapNetCard(new TapCardContext().spec("tap:lo")));
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
        assertTrue(ex.getMessage().contains("TUNSETIFF lo"), ex.getMessage());
        System.out.println(ex.getMessage());
    }

    private static void assertOneLine(final org.junit.jupiter.api.function.Executable executable, final String fragment)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, executable);
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
    }
}
