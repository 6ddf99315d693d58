package dev.braid.perf.virtio;

import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * Two threads over one 256-entry split ring, both busy polling, after Linux tools/virtio/ringtest:
 * the driver (the benchmark thread) posts one-descriptor buffers while there is room, publishing
 * each at once, and reaps completions; the device thread ({@link PollingDevice}) pops and completes
 * them. One invocation moves {@link #BUFFERS} buffers through the ring; the score is the time per
 * buffer. {@code eventChecks=true} adds what a sleep-capable pair pays on top of polling: the
 * driver's needsKick and the device's needsInterrupt (a store-load fence each), with notifications
 * and interrupts suppressed so nobody actually sleeps.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class VirtqueueRoundTripBenchmark
{
    static final int QUEUE_SIZE = 256;
    static final int BUFFERS = 10_000_000;
    static final int BUFFER_LENGTH = 64;

    @Param({"false", "true"})
    public boolean eventChecks;

    private PrefilledRing ring;
    private DriverQueue driver;
    private PollingDevice device;
    private final Counter counter = new Counter();

    /** Counts reaped buffers; allocated once. */
    static final class Counter implements UsedConsumer
    {
        long count;
        long bytes;

        public void onUsed(final int id, final int len)
        {
            count++;
            bytes += len;
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        // Reuse the fixture for its memory and queues, then drain what it pre-posted.
        ring = new PrefilledRing(false, QUEUE_SIZE, 1, false, false);
        driver = ring.driver;
        device = new PollingDevice(ring.device, QUEUE_SIZE, eventChecks);
        device.start();
        while (driver.inFlight() > 0)
        {
            driver.reap(counter);
            Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        device.stop();
        if (device.failures() != 0 || driver.deviceFaults() != 0 || driver.broken())
        {
            throw new IllegalStateException("round trip went wrong: device failures=" + device.failures() + " " + driver);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BUFFERS)
    public long roundTrip()
    {
        final DriverQueue driver = this.driver;
        final Counter counter = this.counter;
        final boolean eventChecks = this.eventChecks;
        final long target = counter.count + BUFFERS;
        long started = 0;
        int idle = 0;
        while (counter.count < target)
        {
            boolean progress = false;
            if (started < BUFFERS && driver.addBuffer(PrefilledRing.DATA_GPA, BUFFER_LENGTH, true) >= 0)
            {
                started++;
                driver.publish();
                if (eventChecks)
                {
                    driver.needsKick();
                }
                progress = true;
            }
            if (driver.reap(counter) > 0)
            {
                progress = true;
            }
            idle = progress ? 0 : RoundTripBackoff.idle(idle);
        }
        return counter.bytes;
    }
}
