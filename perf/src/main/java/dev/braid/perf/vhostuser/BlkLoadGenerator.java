package dev.braid.perf.vhostuser;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_S_OK;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_IN;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_OUT;

/**
 * A load generator for any vhost-user-blk back end: N rings, D requests outstanding on each, one
 * thread that busy-polls every used ring, resubmits at once and kicks only when the back end asks
 * (used-ring NO_NOTIFY, or avail_event with EVENT_IDX). Completion interrupts are switched off.
 *
 * <p>With {@link Context#verify}, every request slot owns its own blocks (block b belongs to slot
 * b mod (N·D)), so a slot knows what each of its blocks must hold: writes carry a pattern of
 * (block, stamp), reads of a written block are compared word by word, and after the timed run every
 * block written is read back once more. Nothing is allocated per request.
 */
public final class BlkLoadGenerator
{
    /** What to run; {@link #validate()} names the first bad value. */
    public static final class Context
    {
        Path socket;
        int queues = 1;
        int depth = 32;
        int blockSize = 4096;
        int writePercent = 0;
        long durationNanos = 5_000_000_000L;
        long warmupNanos = 0;
        long workingSetBytes = 64L << 20;
        boolean verify;
        boolean eventIdx = true;
        boolean indirect;
        boolean kickAlways;
        long seed = 1;

        public Context socket(final Path v) { socket = v; return this; }
        public Context queues(final int v) { queues = v; return this; }
        public Context depth(final int v) { depth = v; return this; }
        public Context blockSize(final int v) { blockSize = v; return this; }
        public Context writePercent(final int v) { writePercent = v; return this; }
        public Context durationMillis(final long v) { durationNanos = v * 1_000_000L; return this; }
        public Context warmupMillis(final long v) { warmupNanos = v * 1_000_000L; return this; }
        public Context workingSetBytes(final long v) { workingSetBytes = v; return this; }
        public Context verify(final boolean v) { verify = v; return this; }
        public Context eventIdx(final boolean v) { eventIdx = v; return this; }
        public Context indirect(final boolean v) { indirect = v; return this; }
        public Context seed(final long v) { seed = v; return this; }
        /** Kick after every publish, ignoring the back end's suppression (a diagnostic). */
        public Context kickAlways(final boolean v) { kickAlways = v; return this; }

        Context validate()
        {
            require(socket != null, "socket= is required");
            require(queues >= 1 && queues <= 64, "queues=" + queues + ": expected 1..64");
            require(depth >= 1 && depth <= 1024, "depth=" + depth + ": expected 1..1024");
            require(blockSize >= 512 && blockSize % 512 == 0 && blockSize <= (1 << 20),
                "bs=" + blockSize + ": expected a multiple of 512 up to 1 MiB");
            require(writePercent >= 0 && writePercent <= 100, "write=" + writePercent + ": expected 0..100");
            require(durationNanos > 0, "duration must be > 0");
            require(warmupNanos >= 0, "warmup must be >= 0");
            require(workingSetBytes >= blockSize, "size=" + workingSetBytes + ": smaller than one block");
            return this;
        }

        private static void require(final boolean ok, final String message)
        {
            if (!ok)
            {
                throw new IllegalArgumentException(message);
            }
        }
    }

    /** The outcome of one run. Latencies in nanoseconds, timed from submission to reap. */
    public record Result(long requests, long bytes, long errors, long verifyFailures, long verifiedReads,
        long readBackBlocks, long deviceFaults, long elapsedNanos, long p50Nanos, long p99Nanos, long maxNanos,
        long features)
    {
        public double iops()
        {
            return requests * 1e9 / elapsedNanos;
        }

        public double megabytesPerSecond()
        {
            return bytes * 1e3 / elapsedNanos;
        }

        /** One line a script can parse: key=value pairs. */
        public String line()
        {
            return String.format("RESULT iops=%.0f mbps=%.1f p50us=%.1f p99us=%.1f maxus=%.1f requests=%d errors=%d " +
                    "verify_failures=%d verified_reads=%d readback_blocks=%d device_faults=%d seconds=%.3f",
                iops(), megabytesPerSecond(), p50Nanos / 1e3, p99Nanos / 1e3, maxNanos / 1e3, requests, errors,
                verifyFailures, verifiedReads, readBackBlocks, deviceFaults, elapsedNanos / 1e9);
        }
    }

    private static final int PHASE_RUN = 0;
    private static final int PHASE_DRAIN = 1;
    private static final int PHASE_READBACK = 2;
    private static final long STALL_NANOS = 10_000_000_000L;

    private final Context ctx;
    private final BlkFrontEnd blk;
    private final UnsafeBuffer guest;
    private final int slots;
    private final long blocks;
    private final long blocksPerSlot;
    private final SplittableRandom random;
    private final Histogram histogram = new Histogram(60_000_000_000L, 3);
    private final BufferChain chain = new BufferChain(3);
    /** Per global slot (q * depth + s): what it has in flight. */
    private final long[] slotBlock;
    private final int[] slotType;
    private final int[] slotStamp;
    private final long[] slotStart;
    private final long[] readBackNext;
    /** Per queue, ring head to slot. */
    private final int[][] headSlot;
    /** Per block (verify only): stamp of the last completed write, 0 never written, -1 unknown. */
    private final int[] blockStamp;
    private final int[] completed;
    private int completedCount;
    private int reapingQueue;
    private final UsedConsumer onUsed = this::onUsed;

    private int phase;
    private int nextStamp = 1;
    private boolean measuring;
    private long requests;
    private long bytes;
    private long errors;
    private long verifyFailures;
    private long verifiedReads;
    private long readBackBlocks;
    private long outstanding;

    private BlkLoadGenerator(final Context ctx, final BlkFrontEnd blk)
    {
        this.ctx = ctx;
        this.blk = blk;
        this.guest = blk.guest;
        this.slots = ctx.queues * ctx.depth;
        final long size = blk.capacityBytes > 0 ? Math.min(ctx.workingSetBytes, blk.capacityBytes) : ctx.workingSetBytes;
        this.blocks = size / ctx.blockSize;
        if (ctx.verify && blocks < slots)
        {
            throw new IllegalArgumentException("verify needs at least queues x depth = " + slots + " blocks, the " +
                "working set holds " + blocks);
        }
        this.blocksPerSlot = ctx.verify ? blocks / slots : blocks;
        this.random = new SplittableRandom(ctx.seed);
        slotBlock = new long[slots];
        slotType = new int[slots];
        slotStamp = new int[slots];
        slotStart = new long[slots];
        readBackNext = new long[slots];
        headSlot = new int[ctx.queues][];
        for (int q = 0; q < ctx.queues; q++)
        {
            headSlot[q] = new int[blk.rings[q].size()];
        }
        blockStamp = ctx.verify ? new int[(int)Math.min(blocks, Integer.MAX_VALUE)] : null;
        completed = new int[Math.max(16, blk.rings[0].size())];
    }

    /** Connects to the back end at {@code ctx.socket}, runs, stops the rings and disconnects. */
    public static Result run(final Context ctx) throws IOException
    {
        ctx.validate();
        try (BlkFrontEnd blk = BlkFrontEnd.start(ctx.socket, ctx.queues, ctx.depth, ctx.blockSize, ctx.eventIdx,
            ctx.indirect))
        {
            if (blk.readOnly() && ctx.writePercent > 0)
            {
                throw new IOException("the back end's device is read-only (VIRTIO_BLK_F_RO), write=" + ctx.writePercent);
            }
            final Result result = new BlkLoadGenerator(ctx, blk).loop();
            blk.stop();
            return result;
        }
    }

    private Result loop() throws IOException
    {
        for (int q = 0; q < ctx.queues; q++)
        {
            blk.rings[q].disableInterrupts(); // busy polling: no call eventfd writes wanted
        }
        final long begin = System.nanoTime();
        final long measureFrom = begin + ctx.warmupNanos;
        final long end = measureFrom + ctx.durationNanos;
        for (int g = 0; g < slots; g++)
        {
            submit(g);
        }
        publishAndKick();
        long lastProgress = System.nanoTime();
        long measuredStart = ctx.warmupNanos == 0 ? begin : 0;
        measuring = ctx.warmupNanos == 0;
        long measuredEnd = 0;
        int idle = 0;
        while (true)
        {
            final int reaped = pollOnce();
            final long now = System.nanoTime();
            if (reaped > 0)
            {
                lastProgress = now;
                idle = 0;
            }
            else if (++idle > 256)
            {
                Thread.yield(); // on a shared machine, give the back end the CPU
                idle = 0;
            }
            if (!measuring && phase == PHASE_RUN && now >= measureFrom)
            {
                measuring = true;
                measuredStart = now;
            }
            if (phase == PHASE_RUN && now >= end)
            {
                measuredEnd = now;
                measuring = false;
                phase = PHASE_DRAIN;
            }
            if (phase == PHASE_DRAIN && outstanding == 0)
            {
                if (!ctx.verify)
                {
                    break;
                }
                phase = PHASE_READBACK;
                for (int g = 0; g < slots; g++)
                {
                    submit(g);
                }
                publishAndKick();
            }
            if (phase == PHASE_READBACK && outstanding == 0)
            {
                break;
            }
            if (now - lastProgress > STALL_NANOS)
            {
                throw new IOException("no completion for " + STALL_NANOS / 1_000_000_000L + " s with " +
                    outstanding + " requests outstanding (phase " + phase + ")");
            }
            if (faults() > 0 && brokenRing())
            {
                throw new IOException("a ring is broken: the back end wrote a bad used element");
            }
        }
        return new Result(requests, bytes, errors, verifyFailures, verifiedReads, readBackBlocks, faults(),
            measuredEnd - measuredStart, histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(99),
            histogram.getMaxValue(), blk.features);
    }

    private int pollOnce()
    {
        int total = 0;
        for (int q = 0; q < ctx.queues; q++)
        {
            final SplitDriverQueue ring = blk.rings[q];
            completedCount = 0;
            reapingQueue = q;
            final int n = ring.reap(onUsed);
            total += n;
            for (int i = 0; i < completedCount; i++)
            {
                submit(completed[i]);
            }
            if (completedCount > 0)
            {
                ring.publish();
                if (ring.needsKick() || ctx.kickAlways)
                {
                    blk.fe.kick(blk.kicks[q]);
                }
            }
        }
        return total;
    }

    private void publishAndKick()
    {
        for (int q = 0; q < ctx.queues; q++)
        {
            blk.rings[q].publish();
            if (blk.rings[q].needsKick() || ctx.kickAlways)
            {
                blk.fe.kick(blk.kicks[q]);
            }
        }
    }

    private void onUsed(final int head, final int length)
    {
        final int q = reapingQueue;
        final int g = headSlot[q][head];
        final int s = g - q * ctx.depth;
        outstanding--;
        final long now = System.nanoTime();
        final int status = guest.getByte((int)blk.statusGpa(q, s)) & 0xFF;
        final long block = slotBlock[g];
        if (status != VIRTIO_BLK_S_OK)
        {
            errors++;
            if (ctx.verify && slotType[g] == VIRTIO_BLK_T_OUT)
            {
                blockStamp[(int)block] = -1; // the block may hold the old or the new data
            }
        }
        else if (ctx.verify)
        {
            if (slotType[g] == VIRTIO_BLK_T_OUT)
            {
                blockStamp[(int)block] = slotStamp[g];
            }
            else if (blockStamp[(int)block] > 0)
            {
                if (!matches(blk.dataGpa(q, s), block, blockStamp[(int)block]))
                {
                    verifyFailures++;
                }
                verifiedReads++;
                if (phase == PHASE_READBACK)
                {
                    readBackBlocks++;
                }
            }
        }
        if (measuring)
        {
            requests++;
            bytes += ctx.blockSize;
            histogram.recordValue(Math.min(now - slotStart[g], 60_000_000_000L));
        }
        completed[completedCount++] = g;
    }

    /** Posts the next request of global slot {@code g}, if its phase has one. */
    private void submit(final int g)
    {
        final int q = g / ctx.depth;
        final int s = g - q * ctx.depth;
        final long block;
        final int type;
        if (phase == PHASE_RUN)
        {
            block = ctx.verify ? g + (long)slots * random.nextLong(blocksPerSlot) : random.nextLong(blocks);
            type = random.nextInt(100) < ctx.writePercent ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
        }
        else if (phase == PHASE_READBACK)
        {
            long k = readBackNext[g];
            while (k < blocksPerSlot && blockStamp[(int)(g + (long)slots * k)] <= 0)
            {
                k++;
            }
            if (k >= blocksPerSlot)
            {
                return;
            }
            readBackNext[g] = k + 1;
            block = g + (long)slots * k;
            type = VIRTIO_BLK_T_IN;
        }
        else
        {
            return;
        }
        final long header = blk.headerGpa(q, s);
        final long data = blk.dataGpa(q, s);
        final long status = blk.statusGpa(q, s);
        guest.putInt((int)header, type, java.nio.ByteOrder.LITTLE_ENDIAN);
        guest.putInt((int)header + 4, 0, java.nio.ByteOrder.LITTLE_ENDIAN);
        guest.putLong((int)header + 8, block * (ctx.blockSize / 512), java.nio.ByteOrder.LITTLE_ENDIAN);
        guest.putByte((int)status, (byte)0xFF);
        if (type == VIRTIO_BLK_T_OUT && ctx.verify)
        {
            final int stamp = nextStamp++ & Integer.MAX_VALUE;
            slotStamp[g] = stamp == 0 ? 1 : stamp;
            fill(data, block, slotStamp[g]);
        }
        chain.clear().readable(header, 16);
        if (type == VIRTIO_BLK_T_OUT)
        {
            chain.readable(data, ctx.blockSize);
        }
        else
        {
            chain.writable(data, ctx.blockSize);
        }
        chain.writable(status, 1);
        final int head = blk.rings[q].addChain(chain, blk.indirect);
        if (head < 0)
        {
            throw new IllegalStateException("ring " + q + " full with " + outstanding + " outstanding");
        }
        headSlot[q][head] = g;
        slotBlock[g] = block;
        slotType[g] = type;
        slotStart[g] = System.nanoTime();
        outstanding++;
    }

    private static long word(final long block, final int stamp, final int i)
    {
        return (block * 0x9E3779B97F4A7C15L) ^ ((long)stamp << 32) ^ (i * 0xBF58476D1CE4E5B9L);
    }

    private void fill(final long gpa, final long block, final int stamp)
    {
        final int words = ctx.blockSize / 8;
        for (int i = 0; i < words; i++)
        {
            guest.putLong((int)gpa + i * 8, word(block, stamp, i));
        }
    }

    private boolean matches(final long gpa, final long block, final int stamp)
    {
        final int words = ctx.blockSize / 8;
        for (int i = 0; i < words; i++)
        {
            if (guest.getLong((int)gpa + i * 8) != word(block, stamp, i))
            {
                return false;
            }
        }
        return true;
    }

    private long faults()
    {
        long f = 0;
        for (final SplitDriverQueue ring : blk.rings)
        {
            f += ring.deviceFaults();
        }
        return f;
    }

    private boolean brokenRing()
    {
        for (final SplitDriverQueue ring : blk.rings)
        {
            if (ring.broken())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code socket=PATH [queues=N] [depth=D] [bs=B] [write=PERCENT] [seconds=S] [warmup=S] [size=BYTES]
     * [verify=true] [event-idx=false] [indirect=true] [kick-always=true] [seed=N]}; prints one RESULT line.
     */
    public static void main(final String[] args)
    {
        final Context ctx = new Context();
        try
        {
            for (final String arg : args)
            {
                final int eq = arg.indexOf('=');
                if (eq < 0)
                {
                    throw new IllegalArgumentException("expected key=value: " + arg);
                }
                final String key = arg.substring(0, eq);
                final String value = arg.substring(eq + 1);
                try
                {
                    option(ctx, key, value);
                }
                catch (final NumberFormatException ex)
                {
                    throw new IllegalArgumentException(key + "=" + value + ": not a number");
                }
            }
            ctx.validate();
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("blk-load: " + ex.getMessage());
            System.exit(2);
            return;
        }
        try
        {
            final Result r = run(ctx);
            System.out.println(r.line());
            System.exit(r.errors() == 0 && r.verifyFailures() == 0 && r.deviceFaults() == 0 ? 0 : 1);
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("blk-load: " + ctx.socket + ": " + ex.getMessage());
            System.exit(1);
        }
    }

    private static void option(final Context ctx, final String key, final String value)
    {
        switch (key)
        {
            case "socket" -> ctx.socket(Path.of(value));
            case "queues" -> ctx.queues(Integer.parseInt(value));
            case "depth" -> ctx.depth(Integer.parseInt(value));
            case "bs" -> ctx.blockSize(Integer.parseInt(value));
            case "write" -> ctx.writePercent(Integer.parseInt(value));
            case "seconds" -> ctx.durationMillis((long)(Double.parseDouble(value) * 1000));
            case "warmup" -> ctx.warmupMillis((long)(Double.parseDouble(value) * 1000));
            case "size" -> ctx.workingSetBytes(Long.parseLong(value));
            case "verify" -> ctx.verify(Boolean.parseBoolean(value));
            case "event-idx" -> ctx.eventIdx(Boolean.parseBoolean(value));
            case "indirect" -> ctx.indirect(Boolean.parseBoolean(value));
            case "kick-always" -> ctx.kickAlways(Boolean.parseBoolean(value));
            case "seed" -> ctx.seed(Long.parseLong(value));
            default -> throw new IllegalArgumentException("unknown option: " + key);
        }
    }
}
