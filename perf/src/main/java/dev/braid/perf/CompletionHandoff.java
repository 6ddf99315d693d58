package dev.braid.perf;

/**
 * One way to hand completions {@code (token, status, length)} from card worker threads to a front
 * queue thread, adapted to a common shape so the benchmark compares only the hand-off itself.
 * Each producer thread takes its own {@link Producer}; one consumer thread calls {@link #drain}.
 */
public abstract class CompletionHandoff
{
    /** Consumer-side checksum of everything drained, so no implementation can skip the reads. */
    protected long checksum;

    public interface Producer
    {
        boolean offer(long token, int status, int length);
    }

    /** A producer for the calling thread; call once per producer thread, before the run. */
    public abstract Producer newProducer();

    /** Drains up to {@code limit} completions; consumer thread only. */
    public abstract int drain(int limit);

    public final long checksum()
    {
        return checksum;
    }

    protected final void consume(final long token, final int status, final int length)
    {
        checksum += token * 31 + status * 7L + length;
    }

    public static long expectedChecksum(final long token, final int status, final int length)
    {
        return token * 31 + status * 7L + length;
    }

    public static CompletionHandoff create(final String impl, final int capacity)
    {
        switch (impl)
        {
            case "braid":
                return new BraidHandoff(capacity);
            case "jctools":
                return new JctoolsHandoff(capacity);
            case "agrona":
                return new AgronaHandoff(capacity);
            case "disruptor":
                return new DisruptorHandoff(capacity);
            default:
                throw new IllegalArgumentException("unknown hand-off '" + impl + "' (valid: braid, jctools, agrona, disruptor)");
        }
    }
}
