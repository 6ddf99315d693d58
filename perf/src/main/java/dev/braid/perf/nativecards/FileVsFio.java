package dev.braid.perf.nativecards;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatorContext;
import dev.braid.aggregator.CardWaitingIdleStrategy;
import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;

/**
 * The file card through Braid's aggregated virtio-blk device, driven by a fio-like guest (the
 * driver model, {@link RandomBlkGuest}), against {@code fio --ioengine=io_uring} straight on the
 * same file with the same block size, depth and pattern. One round = a Braid run then a fio run,
 * back to back; ratios are taken per round and the medians reported.
 *
 * <p>Braid runs on one thread (the guest and every agent of the device in one loop), as fio's one
 * job does. The loop idles as an {@link AgentThreads} thread does, per mode: {@code spin} never idles
 * (busy polling); {@code backoff} is the shipping path before card waits (a device with card wait 0,
 * Agrona back-off through the {@link CardWaitingIdleStrategy} AgentThreads installs); {@code wait} is
 * the shipping path with the device's default card wait (a cycle without work sleeps in the file card's
 * io_uring_enter for the first CQE); {@code batched} is {@code wait} with the card handing every
 * prepared request to the kernel at its worker's poll, as before {@link FileCardContext#submitBatch}
 * (the shipping card enters the kernel for each request); {@code batch4} is {@code wait} with
 * {@code submitBatch(4)}. fio's latency is its {@code lat_ns} (from
 * preparing a request to reaping it), as the guest model's runs from posting to reaping. Each side's
 * window is also shown as the disk saw it ({@link DiskStat}). Usage:
 * {@code FileVsFio [file=/var/tmp/braid-fio.img] [sizeMiB=256] [bs=4096] [depth=32] [seconds=5]
 * [rounds=5] [rw=randread|randwrite] [direct=1|0] [modes=spin,backoff,wait,batched]}. With {@code direct=0} both
 * sides read through the page cache (the file is read once first, so every read hits it): no disk in
 * the way, so the comparison is of CPU cost per request.
 */
public final class FileVsFio
{
    private FileVsFio()
    {
    }

    record Result(double iops, double p50Micros, double p99Micros, double perSyscall, double bytesPerRequest,
        double waitsPerRequest, double cpuMicrosPerRequest, String disk, String stalls)
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Path file = Path.of(arg(args, 0, "/var/tmp/braid-fio.img"));
        final long size = Long.parseLong(arg(args, 1, "256")) << 20;
        final int bs = Integer.parseInt(arg(args, 2, "4096"));
        final int depth = Integer.parseInt(arg(args, 3, "32"));
        final int seconds = Integer.parseInt(arg(args, 4, "5"));
        final int rounds = Integer.parseInt(arg(args, 5, "5"));
        final String rw = arg(args, 6, "randread");
        final boolean direct = !arg(args, 7, "1").equals("0");
        if (!rw.equals("randread") && !rw.equals("randwrite"))
        {
            System.err.println("FileVsFio: rw must be randread or randwrite: " + rw);
            System.exit(2);
        }
        prepare(file, size);
        if (!direct)
        {
            Files.readAllBytes(file);
        }
        System.out.printf("FileVsFio: %s, %d MiB, bs %d, depth %d, %s, %s, %d s x %d rounds; nproc %d%n",
            file, size >> 20, bs, depth, rw, direct ? "O_DIRECT" : "buffered (page cache)", seconds, rounds,
            Runtime.getRuntime().availableProcessors());

        final String[] modes = arg(args, 8, "spin,backoff,wait,batched").split(",");
        final List<List<double[]>> rows = new ArrayList<>();
        for (final String mode : modes)
        {
            if (!mode.equals("spin") && !mode.equals("backoff") && !mode.equals("wait") && !mode.equals("batched") &&
                !mode.equals("batch4") && !mode.matches("spinwait[0-9]+"))
            {
                System.err.println("FileVsFio: modes are spin, backoff, wait, batched, batch4 and spinwaitN: " + mode);
                System.exit(2);
            }
            rows.add(new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++)
        {
            for (int m = 0; m < modes.length; m++)
            {
                // Each Braid run gets its own fio run right before it: the shared disk's speed drifts
                // over tens of seconds, so a fio run shared by several modes flatters the first one.
                final Result fio = fio(file, size, bs, depth, seconds, rw, direct);
                final Result braid = braid(file, size, bs, depth, seconds, rw, direct, modes[m],
                    round == 0 ? 3 : 1, 1000 + round);
                final double[] row = {braid.iops, fio.iops, braid.iops / fio.iops, braid.p99Micros, fio.p99Micros,
                    fio.p99Micros / braid.p99Micros, braid.p50Micros, fio.p50Micros, braid.cpuMicrosPerRequest,
                    fio.cpuMicrosPerRequest};
                rows.get(m).add(row);
                System.out.printf("round %d %s: braid %.0f IOPS p50 %.1f us p99 %.1f us (%.1f req/io_uring_enter, %.2f sleeping enters/req, %.2f B/req allocated, %.2f us CPU/req; %s; %s) | fio %.0f IOPS p50 %.1f us p99 %.1f us (%.2f us CPU/req; %s) | IOPS ratio %.3f, p99 ratio (fio/braid) %.3f  [load %s]%n",
                    round, modes[m], braid.iops, braid.p50Micros, braid.p99Micros, braid.perSyscall, braid.waitsPerRequest, braid.bytesPerRequest,
                    braid.cpuMicrosPerRequest, braid.disk, braid.stalls, fio.iops, fio.p50Micros, fio.p99Micros, fio.cpuMicrosPerRequest, fio.disk,
                    row[2], row[5], load());
            }
        }
        for (int m = 0; m < modes.length; m++)
        {
            final List<double[]> r = rows.get(m);
            System.out.printf("median %s: braid %.0f IOPS p50 %.1f us p99 %.1f us %.2f us CPU/req | fio %.0f IOPS p50 %.1f us p99 %.1f us %.2f us CPU/req | IOPS ratio %.3f | p99 ratio (fio/braid, >= 0.9 good) %.3f%n",
                modes[m], median(r, 0), median(r, 6), median(r, 3), median(r, 8), median(r, 1), median(r, 7), median(r, 4),
                median(r, 9), median(r, 2), median(r, 5));
        }
    }

    private static String arg(final String[] args, final int i, final String fallback)
    {
        return args.length > i ? args[i] : fallback;
    }

    static double median(final List<double[]> rows, final int column)
    {
        final double[] values = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
        final int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    static String load() throws IOException
    {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }

    /** Writes the whole file once (random bytes, synced) unless it already has the size: no holes, as fio reads. */
    static void prepare(final Path file, final long size) throws IOException
    {
        if (Files.exists(file) && Files.size(file) == size)
        {
            return;
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(0);
            final byte[] chunk = new byte[1 << 20];
            final SplittableRandom random = new SplittableRandom(7);
            for (long off = 0; off < size; off += chunk.length)
            {
                random.nextBytes(chunk);
                raf.write(chunk);
            }
            raf.getFD().sync();
        }
    }

    static Result braid(
        final Path file, final long size, final int bs, final int depth, final int seconds, final String rw,
        final boolean direct, final String mode, final int warmupSeconds, final long seed)
    {
        // batched: the card as before submitBatch, every prepared request handed over at the worker's poll.
        final FileCardContext cardContext = new FileCardContext().spec("file:" + file).name("file0")
            .queueCount(1).queueDepth(Math.max(depth, 32)).directIo(direct);
        if (mode.equals("batched"))
        {
            cardContext.submitBatch(cardContext.queueDepth());
        }
        else if (mode.equals("batch4"))
        {
            cardContext.submitBatch(4);
        }
        try (FileBlockCard card = FileBlockCard.open(cardContext))
        {
            final RandomBlkLoop loop = new RandomBlkLoop(List.of(card), size, bs, depth, rw.equals("randwrite"), seed,
                TimeUnit.SECONDS.toNanos(10),
                mode.equals("wait") || mode.startsWith("batch") || mode.startsWith("spinwait") ?
                    AggregatorContext.DEFAULT_CARD_WAIT_NANOS : 0);
            final RandomBlkGuest guest = loop.guest;
            final Agent[] agents = loop.agents;
            // What an AgentThreads thread running these agents idles with (spin: never idles).
            // spinwaitN (an experiment, not a shipping path): N idle cycles of busy polling before each card wait.
            final IdleStrategy idle = mode.startsWith("spinwait") ?
                new SpinThenIdle(Integer.parseInt(mode.substring("spinwait".length())),
                    new CardWaitingIdleStrategy(List.of(agents), AgentThreads.backoff().get())) :
                mode.equals("spin") ? new NoOpIdleStrategy() :
                new CardWaitingIdleStrategy(List.of(agents), AgentThreads.backoff().get());
            run(agents, TimeUnit.SECONDS.toNanos(warmupSeconds), idle);
            guest.startRecording();
            final long enters = card.submitCalls();
            final long waits = card.waitCalls();
            final long requests = card.directRequests() + card.bufferedRequests();
            final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
            // The disk's counters are read outside the allocation and CPU window (reading sysfs allocates).
            final Path statFile = DiskStat.statFileOf(file);
            final DiskStat diskBefore = DiskStat.read(statFile);
            final long allocated = threads.getCurrentThreadAllocatedBytes();
            final long cpu = threads.getCurrentThreadCpuTime();
            final long start = System.nanoTime();
            final long[] stalls = run(agents, TimeUnit.SECONDS.toNanos(seconds), idle);
            final double elapsed = (System.nanoTime() - start) / 1e9;
            final double bytesPerRequest = (threads.getCurrentThreadAllocatedBytes() - allocated) / (double)guest.completed();
            // The loop thread's user + system time: guest model, device and the kernel's share of io_uring_enter.
            final double cpuMicrosPerRequest = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / guest.completed();
            final DiskStat diskAfter = DiskStat.read(statFile);
            final double perSyscall = (card.directRequests() + card.bufferedRequests() - requests) /
                (double)Math.max(1, card.submitCalls() - enters);
            final double waitsPerRequest = (card.waitCalls() - waits) /
                (double)Math.max(1, card.directRequests() + card.bufferedRequests() - requests);
            guest.stopRecording();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (guest.outstanding() > 0 && System.nanoTime() < deadline)
            {
                for (final Agent agent : agents)
                {
                    doWork(agent);
                }
            }
            if (direct ? card.bufferedRequests() > 0 : card.directRequests() > 0)
            {
                throw new IllegalStateException("braid run: direct " + card.directRequests() + ", buffered " + card.bufferedRequests());
            }
            if (guest.errors() > 0 || !card.isLinkUp())
            {
                throw new IllegalStateException("braid run: " + guest.errors() + " guest errors, card " + card.failure());
            }
            loop.close();
            card.fence();
            return new Result(guest.completed() / elapsed, guest.latency().getValueAtPercentile(50) / 1e3,
                guest.latency().getValueAtPercentile(99) / 1e3, perSyscall, bytesPerRequest, waitsPerRequest,
                cpuMicrosPerRequest, diskBefore == null ? "disk ?" : diskBefore.describeTo(diskAfter),
                String.format("%d loop gaps over 1 ms, %.0f ms in all", stalls[0], stalls[1] / 1e6));
        }
    }

    /**
     * Runs the loop for {@code nanos}; returns how many of its iterations (duty cycle and idle) took
     * over 1 ms and their total time: the thread waiting for a CPU, or a long idle (a card wait is
     * at most 100 us).
     */
    private static long[] run(final Agent[] agents, final long nanos, final IdleStrategy idle)
    {
        long last = System.nanoTime();
        final long end = last + nanos;
        long gaps = 0;
        long gapNanos = 0;
        while (true)
        {
            int work = 0;
            for (final Agent agent : agents)
            {
                work += doWork(agent);
            }
            idle.idle(work);
            final long now = System.nanoTime();
            if (now - last > 1_000_000)
            {
                gaps++;
                gapNanos += now - last;
            }
            last = now;
            if (now - end > 0)
            {
                return new long[] {gaps, gapNanos};
            }
        }
    }

    private static int doWork(final Agent agent)
    {
        try
        {
            return agent.doWork();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(agent.roleName() + ": " + ex, ex);
        }
    }

    private static final Pattern IOPS = Pattern.compile("\"iops\"\\s*:\\s*([0-9.]+)");
    private static final Pattern LAT = Pattern.compile("\"lat_ns\"\\s*:\\s*\\{");
    private static final Pattern P50 = Pattern.compile("\"50\\.000000\"\\s*:\\s*([0-9]+)");
    private static final Pattern P99 = Pattern.compile("\"99\\.000000\"\\s*:\\s*([0-9]+)");
    private static final Pattern USR = Pattern.compile("\"usr_cpu\"\\s*:\\s*([0-9.]+)");
    private static final Pattern SYS = Pattern.compile("\"sys_cpu\"\\s*:\\s*([0-9.]+)");

    static Result fio(final Path file, final long size, final int bs, final int depth, final int seconds, final String rw,
        final boolean direct) throws IOException, InterruptedException
    {
        final List<String> command = Arrays.asList("fio", "--name=braid-ref", "--filename=" + file,
            "--size=" + size, "--ioengine=io_uring", "--direct=" + (direct ? 1 : 0), "--rw=" + rw, "--bs=" + bs,
            "--iodepth=" + depth, "--numjobs=1", "--time_based", "--runtime=" + seconds, "--ramp_time=1",
            "--norandommap", "--randrepeat=0", "--invalidate=0", "--lat_percentiles=1", "--output-format=json");
        final Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
        // The disk's view of fio's measured window (after its 1 s ramp), taken from here: a little inside it.
        final Path statFile = DiskStat.statFileOf(file);
        Thread.sleep(1_150);
        final DiskStat diskBefore = DiskStat.read(statFile);
        Thread.sleep(Math.max(100, seconds * 1000L - 300));
        final DiskStat diskAfter = DiskStat.read(statFile);
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        final String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0)
        {
            throw new IllegalStateException("fio failed: " + err.strip());
        }
        final String direction = rw.equals("randread") ? "\"read\"" : "\"write\"";
        final String section = out.substring(out.indexOf(direction + " : {"));
        final Matcher iops = IOPS.matcher(section);
        // lat_ns (from the io_u's preparation to its reaping), not clat_ns (from its submission): the
        // guest model times a request from posting it, before the device has seen it, to reaping it.
        final Matcher lat = LAT.matcher(section);
        if (!iops.find() || !lat.find())
        {
            throw new IllegalStateException("fio output without iops/lat_ns: " + out);
        }
        final String latSection = section.substring(lat.end());
        final Matcher p50 = P50.matcher(latSection);
        final Matcher p99 = P99.matcher(latSection);
        if (!p50.find() || !p99.find())
        {
            throw new IllegalStateException("fio output without lat percentiles (--lat_percentiles=1): " + out);
        }
        // fio's job CPU (user + system, % of the run) over its IOPS: CPU time per request.
        final Matcher usr = USR.matcher(out);
        final Matcher sys = SYS.matcher(out);
        final double iopsValue = Double.parseDouble(iops.group(1));
        final double cpuMicros = usr.find() && sys.find() ?
            (Double.parseDouble(usr.group(1)) + Double.parseDouble(sys.group(1))) / 100 * 1e6 / iopsValue : Double.NaN;
        return new Result(iopsValue, Long.parseLong(p50.group(1)) / 1e3,
            Long.parseLong(p99.group(1)) / 1e3, Double.NaN, Double.NaN, Double.NaN, cpuMicros,
            diskBefore == null ? "disk ?" : diskBefore.describeTo(diskAfter), "");
    }

    /** Spins {@code cycles} idle duty cycles (no sleep, no yield) before handing an idle cycle to {@code then}. */
    static final class SpinThenIdle implements IdleStrategy
    {
        private final int cycles;
        private final IdleStrategy then;
        private int idleCycles;

        SpinThenIdle(final int cycles, final IdleStrategy then)
        {
            this.cycles = cycles;
            this.then = then;
        }

        public void idle(final int workCount)
        {
            if (workCount > 0)
            {
                idleCycles = 0;
                then.idle(workCount);
                return;
            }
            if (++idleCycles <= cycles)
            {
                Thread.onSpinWait();
                return;
            }
            idleCycles = 0;
            then.idle(0);
        }

        public void idle()
        {
            idle(0);
        }

        public void reset()
        {
            idleCycles = 0;
            then.reset();
        }

        public String alias()
        {
            return "spin" + cycles + "+" + then.alias();
        }
    }
}
