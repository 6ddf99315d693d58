package dev.braid.cards.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NbdUriTest
{
    @Test
    void tcpFormsWithDefaults()
    {
        final NbdUri full = NbdUri.parse("nbd://example.com:10810/disk%20one");
        assertFalse(full.isUnixSocket());
        assertEquals("example.com", full.host());
        assertEquals(10810, full.port());
        assertEquals("disk one", full.exportName());

        final NbdUri bare = NbdUri.parse("nbd://10.0.0.1");
        assertEquals(NbdUri.DEFAULT_PORT, bare.port());
        assertEquals("", bare.exportName());

        final NbdUri v6 = NbdUri.parse("nbd://[::1]:2000/a/b");
        assertEquals("::1", v6.host());
        assertEquals("a/b", v6.exportName());
        assertEquals("nbd://[::1]:2000/a/b", v6.toString());
    }

    @Test
    void unixForm()
    {
        final NbdUri uri = NbdUri.parse("nbd+unix:///exp?socket=/run/nbd%2B1.sock");
        assertTrue(uri.isUnixSocket());
        assertEquals("/run/nbd+1.sock", uri.socketPath());
        assertEquals("exp", uri.exportName());
        assertNull(uri.host());
        assertEquals("", NbdUri.parse("nbd+unix://?socket=/s").exportName());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "nbd:/x|no host (expected nbd://HOST",
        "file:///disk|scheme 'file'",
        "nbd://host:0/x|port 0",
        "nbd://host:99999/x|port 99999",
        "nbd://host:abc/x|bad host or port 'host:abc'",
        "nbd://user@host/x|user info 'user'",
        "nbd://host/x?socket=/s|unsupported query 'socket=/s'",
        "nbd+unix:///x|needs ?socket=PATH",
        "nbd+unix:///x?sock=/s|query 'sock=/s'",
        "nbd+unix://host/x?socket=/s|takes no host, found 'host'",
        "nbd+unix:///x?socket=/s&tls=on|unsupported query 'socket=/s&tls=on'",
        "nbd://ho st/x|bad NBD URI 'nbd://ho st/x'",
    })
    void badUrisFailWithOneLineNamingThePart(final String text, final String named)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> NbdUri.parse(text));
        assertTrue(ex.getMessage().contains(named), ex.getMessage());
        assertTrue(ex.getMessage().indexOf('\n') < 0, ex.getMessage());
    }

    @Test
    void contextNamesTheBadValue()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new NbdCardContext().uri("nbd://h/x").queueDepth(0).conclude());
        assertTrue(ex.getMessage().contains("queueDepth 0"), ex.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new NbdCardContext().conclude())
            .getMessage().contains("uri is required"));
    }
}
