package dev.braid.examples;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code braid serve} processes a test started, each cleaned up after it ({@link
 * ServeProcess#afterTest}: thread dump if still running, log printed, killed). Registered as a field:
 * {@code @RegisterExtension final ServeProcesses processes = new ServeProcesses();}.
 */
final class ServeProcesses implements AfterEachCallback
{
    private final List<ServeProcess> started = new ArrayList<>();

    /** {@link ServeProcess#start}, remembered for the cleanup. */
    ServeProcess start(final Path log, final String... args) throws IOException
    {
        final ServeProcess serve = ServeProcess.start(log, args);
        started.add(serve);
        return serve;
    }

    public void afterEach(final ExtensionContext context) throws Exception
    {
        for (final ServeProcess serve : started)
        {
            serve.afterTest();
        }
        started.clear();
    }
}
