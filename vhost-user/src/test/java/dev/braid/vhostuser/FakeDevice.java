package dev.braid.vhostuser;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.virtio.memory.GuestMemory;

import java.util.function.IntConsumer;

/** A device that records what the transport asks of it; each stop pretends 5 chains per ring were consumed. */
final class FakeDevice implements BackendDevice
{
    static final long FEATURES = (1L << 32) | (1L << 28) | (1L << 1);

    int starts;
    int stops;
    int runningCount;
    long startedFeatures;
    GuestMemory memory;
    final int[] startedBases = new int[4];
    final long[] startedDesc = new long[4];
    IntConsumer calls;

    public long features()
    {
        return FEATURES;
    }

    public int maxQueues()
    {
        return 4;
    }

    public int maxQueueSize()
    {
        return 256;
    }

    public int readConfigByte(final int offset)
    {
        return offset < 60 ? offset + 1 : 0;
    }

    public String start(final GuestMemory memory, final long features, final int count, final int[] sizes, final long[] desc,
        final long[] avail, final long[] used, final int[] bases, final IntConsumer calls)
    {
        starts++;
        runningCount = count;
        startedFeatures = features;
        this.memory = memory;
        this.calls = calls;
        System.arraycopy(bases, 0, startedBases, 0, count);
        System.arraycopy(desc, 0, startedDesc, 0, count);
        return null;
    }

    public boolean isRunning()
    {
        return runningCount > 0;
    }

    public int stop(final int[] bases)
    {
        stops++;
        for (int q = 0; q < runningCount; q++)
        {
            bases[q] = (startedBases[q] + 5) & 0xFFFF;
        }
        runningCount = 0;
        return 0;
    }

    public AggregatedDevice<?> runningDevice()
    {
        return null;
    }

    public long starts()
    {
        return starts;
    }

    public void close()
    {
        runningCount = 0;
    }
}
