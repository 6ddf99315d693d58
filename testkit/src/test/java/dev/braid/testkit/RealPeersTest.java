package dev.braid.testkit;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RealPeersTest
{
    @Test
    void aPresentExecutableIsFound()
    {
        assertNotNull(RealPeers.requireExecutable("sh"));
    }

    @Test
    void aMissingPeerSkipsOrFailsUnderCi()
    {
        final Class<? extends Throwable> expected =
            RealPeers.strict() ? AssertionFailedError.class : TestAbortedException.class;
        assertThrows(expected, () -> RealPeers.requireExecutable("braid-no-such-peer-xyz"));
        assertThrows(expected, () -> RealPeers.requireFile("/no/such/braid/file"));
    }
}
