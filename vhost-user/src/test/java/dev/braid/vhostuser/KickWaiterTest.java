package dev.braid.vhostuser;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The idle strategy that blocks on kick eventfds, against the driver model's rings: it blocks
 * only when armed, a kick ends the block, a chain published before the arm is never slept over
 * (the wait is 60 s, so a lost wakeup fails the test), the guest is told not to kick while the
 * thread polls, and close leaves no fd. With and without EVENT_IDX.
 */
class KickWaiterTest
{
    private static final long LONG_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final GuestMemory memory = GuestMemory.allocate(1 << 16);
    private final RingLayout layout = RingLayout.split(0x1000, 16, 4);

    private DeviceQueue device(final boolean eventIdx)
    {
        return new SplitQueue(memory, 16, layout.descGpa(), layout.driverAreaGpa(), layout.deviceAreaGpa(), eventIdx, false);
    }

    private void post(final SplitDriverQueue driver)
    {
        assertTrue(driver.addChain(new BufferChain(1).writable(0x8000, 512), false) >= 0);
        driver.publish();
    }

    private static void kick(final int fd)
    {
        final UnsafeBuffer one = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(8, 8));
        one.putLong(0, 1L);
        assertEquals(8, Libc.write(fd, one.addressOffset(), 8));
    }

    /** Runs one idle() on a thread; the returned flag turns true when it returned. */
    private static Thread idleOnce(final KickWaiter waiter, final AtomicBoolean returned)
    {
        final Thread t = new Thread(() ->
        {
            waiter.idle(0);
            returned.set(true);
        }, "kick-waiter-test");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @ParameterizedTest(name = "eventIdx={0}")
    @ValueSource(booleans = {false, true})
    void blocksWhenArmedAndAKickEndsTheBlock(final boolean eventIdx) throws Exception
    {
        final Set<String> fdsBefore = ProcessResources.fdTargets();
        final int kick = TestFrontEnd.eventfd();
        final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, eventIdx);
        final KickWaiter waiter = new KickWaiter(new DeviceQueue[] {device(eventIdx)}, new int[] {kick}, () -> true, 0, 60_000);
        assertTrue(waiter.canSleep());
        final AtomicBoolean returned = new AtomicBoolean();
        final Thread t = idleOnce(waiter, returned);
        Waits.assertWithin(Duration.ofNanos(LONG_WAIT_NANOS), () -> waiter.sleeps() == 1, "the thread went to sleep");
        Thread.sleep(300);
        assertFalse(returned.get(), "idle() blocks while no chain and no kick came");

        post(driver);
        assertTrue(driver.needsKick(), "an armed ring asks for a kick");
        kick(kick);
        t.join(LONG_WAIT_NANOS / 1_000_000);
        assertTrue(returned.get(), "the kick ended the wait");
        assertEquals(1, waiter.kickWakes());
        assertEquals(0, TestFrontEnd.drain(kick), "the waiter consumed the kick");

        post(driver);
        assertFalse(driver.needsKick(), eventIdx ? "EVENT_IDX: avail_event stays behind while the thread polls" :
            "while the thread polls the ring says NO_NOTIFY");
        waiter.close();
        Libc.close(kick);
        ProcessResources.assertNoNewFds(fdsBefore, "after close");
    }

    @ParameterizedTest(name = "eventIdx={0}")
    @ValueSource(booleans = {false, true})
    void aChainPublishedWithoutAKickBeforeTheArmIsNotSleptOver(final boolean eventIdx) throws Exception
    {
        final int kick = TestFrontEnd.eventfd();
        final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, eventIdx);
        final DeviceQueue ring = device(eventIdx);
        final KickWaiter waiter = new KickWaiter(new DeviceQueue[] {ring}, new int[] {kick}, () -> true, 0, 60_000);
        // A first idle() call with work owns the notification flag; the guest then sees NO_NOTIFY.
        final AtomicBoolean first = new AtomicBoolean();
        post(driver);
        idleOnce(waiter, first).join(LONG_WAIT_NANOS / 1_000_000);
        assertTrue(first.get(), "a ring with a chain is not slept over");
        assertEquals(0, waiter.kickWakes());
        // The guest publishes while the device polls and does not kick (it was told not to).
        post(driver);
        if (!eventIdx)
        {
            assertFalse(driver.needsKick(), "NO_NOTIFY while polling");
        }
        final AtomicBoolean second = new AtomicBoolean();
        idleOnce(waiter, second).join(LONG_WAIT_NANOS / 1_000_000);
        assertTrue(second.get(), "the re-check after arming found the chain: no 60 s sleep");
        assertEquals(2, waiter.sleeps());
        assertEquals(0, waiter.kickWakes());
        waiter.close();
        Libc.close(kick);
    }

    @ParameterizedTest(name = "eventIdx={0}")
    @ValueSource(booleans = {false, true})
    void neverBlocksWithRequestsInFlightOrARingWithoutKickFdAndWakeEndsEveryWait(final boolean eventIdx) throws Exception
    {
        final int kick = TestFrontEnd.eventfd();
        final AtomicInteger inFlight = new AtomicInteger(1);
        final KickWaiter busy = new KickWaiter(new DeviceQueue[] {device(eventIdx)}, new int[] {kick},
            () -> inFlight.get() == 0, 0, 60_000);
        for (int i = 0; i < 100; i++)
        {
            busy.idle(0);
        }
        assertEquals(0, busy.sleeps(), "requests in flight: the thread polls");
        busy.close();

        final KickWaiter polled = new KickWaiter(new DeviceQueue[] {device(eventIdx)}, new int[] {-1}, () -> true, 0, 60_000);
        assertFalse(polled.canSleep(), "a ring the front end polls (no kick fd) keeps the thread polling");
        polled.idle(0);
        assertEquals(0, polled.sleeps());
        polled.close();

        final KickWaiter waiter = new KickWaiter(new DeviceQueue[] {device(eventIdx)}, new int[] {kick}, () -> true, 0, 60_000);
        final AtomicBoolean returned = new AtomicBoolean();
        final Thread t = idleOnce(waiter, returned);
        Waits.assertWithin(Duration.ofNanos(LONG_WAIT_NANOS), () -> waiter.sleeps() == 1, "asleep");
        waiter.wake();
        t.join(LONG_WAIT_NANOS / 1_000_000);
        assertTrue(returned.get(), "wake() ends the wait");
        final AtomicBoolean again = new AtomicBoolean();
        idleOnce(waiter, again).join(LONG_WAIT_NANOS / 1_000_000);
        assertTrue(again.get(), "and no wait follows it");
        assertEquals(1, waiter.sleeps());
        waiter.close();
        Libc.close(kick);
    }
}
