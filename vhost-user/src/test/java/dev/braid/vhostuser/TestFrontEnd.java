package dev.braid.vhostuser;

import dev.braid.vhostuser.frontend.VhostUserFrontEnd;

import java.io.IOException;
import java.nio.file.Path;

/** The tests' name for {@link VhostUserFrontEnd}, kept so the protocol tests read as before. */
final class TestFrontEnd extends VhostUserFrontEnd
{
    TestFrontEnd(final Path socketPath, final long memSize) throws IOException
    {
        super(socketPath, memSize);
    }
}
