package dev.braid.testkit.guest;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fails a real-guest test that leaves a QEMU process behind: counts them before each test and
 * again after it ({@code @ExtendWith(NoQemuLeftBehind.class)}).
 */
public final class NoQemuLeftBehind implements BeforeEachCallback, AfterEachCallback
{
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NoQemuLeftBehind.class);

    public void beforeEach(final ExtensionContext context)
    {
        context.getStore(NAMESPACE).put("before", GuestRun.liveQemuProcesses());
    }

    public void afterEach(final ExtensionContext context)
    {
        final long before = context.getStore(NAMESPACE).get("before", Long.class);
        assertEquals(before, GuestRun.liveQemuProcesses(), "QEMU processes left behind");
    }
}
