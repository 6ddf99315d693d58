package dev.braid.perf;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The completion hand-off (card workers -> front queue): producers offer {@code (token, status,
 * length)}, one consumer drains in batches of up to {@link #DRAIN_LIMIT}. Each offer is tried once
 * per call (a full ring counts as a failed call, never a spin), so an iteration always ends.
 * The result to read is the {@code drained} counter: completions delivered per second. On a
 * 2-core machine the two-producer group runs 3 threads on 2 cores, so it measures contention plus
 * scheduling; {@link #sameThreadBatch} gives the scheduling-free cost per completion.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Group)
public class CompletionHandoffBenchmark
{
    static final int DRAIN_LIMIT = 256;
    static final int BATCH = 64;

    @Param({"braid", "jctools", "agrona", "disruptor"})
    public String impl;

    @Param("1024")
    public int capacity;

    CompletionHandoff handoff;

    @Setup(Level.Trial)
    public void setUp()
    {
        handoff = CompletionHandoff.create(impl, capacity);
    }

    @TearDown(Level.Trial)
    public void tearDown(final Blackhole blackhole)
    {
        blackhole.consume(handoff.checksum());
    }

    @State(Scope.Thread)
    public static class ProducerState
    {
        CompletionHandoff.Producer producer;
        long token;

        @Setup(Level.Trial)
        public void setUp(final CompletionHandoffBenchmark benchmark)
        {
            producer = benchmark.handoff.newProducer();
        }
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters
    {
        public long offered;
        public long drained;

        @Setup(Level.Iteration)
        public void reset()
        {
            offered = 0;
            drained = 0;
        }
    }

    @Benchmark
    @Group("oneProducer")
    @GroupThreads(1)
    public void oneProducerOffer(final ProducerState producer, final Counters counters)
    {
        offer(producer, counters);
    }

    @Benchmark
    @Group("oneProducer")
    @GroupThreads(1)
    public void oneProducerDrain(final Counters counters)
    {
        drain(handoff, counters);
    }

    @Benchmark
    @Group("twoProducers")
    @GroupThreads(2)
    public void twoProducersOffer(final ProducerState producer, final Counters counters)
    {
        offer(producer, counters);
    }

    @Benchmark
    @Group("twoProducers")
    @GroupThreads(1)
    public void twoProducersDrain(final Counters counters)
    {
        drain(handoff, counters);
    }

    /**
     * One thread, as when a card worker and its front queue share a thread (CompositeAgent): offer a
     * batch, drain it. Measures the cost per completion without any scheduling effect.
     */
    @Benchmark
    @Group("sameThread")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH)
    public int sameThreadBatch(final ProducerState producer)
    {
        final CompletionHandoff.Producer p = producer.producer;
        final long token = producer.token;
        for (int i = 0; i < BATCH; i++)
        {
            p.offer(token + i, 0, i);
        }
        producer.token = token + BATCH;
        return handoff.drain(BATCH);
    }

    private static void offer(final ProducerState producer, final Counters counters)
    {
        final long token = producer.token;
        if (producer.producer.offer(token, 0, (int)token & 0xFFFF))
        {
            producer.token = token + 1;
            counters.offered++;
        }
        else
        {
            // Full: give the CPU to the consumer, as a backing-off agent would (2 cores, 3 threads).
            Thread.yield();
        }
    }

    private static void drain(final CompletionHandoff handoff, final Counters counters)
    {
        final int drained = handoff.drain(DRAIN_LIMIT);
        if (drained == 0)
        {
            Thread.yield();
        }
        counters.drained += drained;
    }
}
