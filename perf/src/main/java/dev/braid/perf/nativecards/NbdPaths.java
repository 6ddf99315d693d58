package dev.braid.perf.nativecards;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.agrona.concurrent.Agent;

import dev.braid.aggregator.AggregatorContext;
import dev.braid.cards.nbd.NbdBlockCard;
import dev.braid.cards.nbd.NbdCardContext;
import dev.braid.testkit.DiskImages;

/**
 * NBD paths through Braid's aggregated virtio-blk device (active-active, request spray over the
 * least outstanding path), driven by the fio-like guest ({@link RandomBlkGuest}, random reads).
 *
 * <ul>
 *   <li><b>bandwidth</b>: each path is a {@code qemu-nbd} over one shared image behind an
 *   {@code nbdkit --filter=rate} proxy ({@code nbd} plugin) that caps it; one path vs two, back to
 *   back per round. Goal: two paths &ge; 1.8x one.</li>
 *   <li><b>failover</b>: two uncapped {@code qemu-nbd} paths; after a warm-up one is SIGKILLed while
 *   the guest keeps its depth posted. The stall is the longest any guest request took in the 2 s
 *   after the kill (it includes the time to notice the closed socket, fence the card and replay on
 *   the survivor), against the longest in the 2 s before it. Fresh servers and cards per trial.</li>
 * </ul>
 *
 * Usage: {@code NbdPaths [rateMbit=160] [bs=65536] [depth=32] [seconds=5] [rounds=3] [trials=10]}
 */
public final class NbdPaths
{
    private NbdPaths()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int rateMbit = Integer.parseInt(arg(args, 0, "160"));
        final int bs = Integer.parseInt(arg(args, 1, "65536"));
        final int depth = Integer.parseInt(arg(args, 2, "32"));
        final int seconds = Integer.parseInt(arg(args, 3, "5"));
        final int rounds = Integer.parseInt(arg(args, 4, "3"));
        final int trials = Integer.parseInt(arg(args, 5, "10"));
        final Path dir = Files.createTempDirectory("braid-nbd-perf");
        final List<Process> processes = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> cleanUp(processes, dir)));
        try
        {
            final long size = 64L << 20;
            final Path image = DiskImages.sparse(dir.resolve("shared.raw"), size);
            System.out.printf("NbdPaths: bandwidth: each path qemu-nbd behind nbdkit rate=%dM (bits/s), bs %d, depth %d, %d s x %d rounds; nproc %d%n",
                rateMbit, bs, depth, seconds, rounds, Runtime.getRuntime().availableProcessors());
            final List<double[]> rows = new ArrayList<>();
            for (int round = 0; round < rounds; round++)
            {
                final double[] mbps = new double[2];
                for (int paths = 1; paths <= 2; paths++)
                {
                    final List<String> uris = new ArrayList<>();
                    final List<Process> started = new ArrayList<>();
                    for (int p = 0; p < paths; p++)
                    {
                        final Path qemuSocket = dir.resolve("q" + round + "-" + paths + "-" + p + ".sock");
                        final Path rateSocket = dir.resolve("r" + round + "-" + paths + "-" + p + ".sock");
                        started.add(start(processes, dir, qemuSocket, "qemu-nbd", "-t", "-e", "8", "--cache=none",
                            "-x", "shared", "--socket=" + qemuSocket, "--image-opts",
                            "driver=raw,cache.direct=on,file.driver=file,file.filename=" + image + ",file.locking=off"));
                        started.add(start(processes, dir, rateSocket, "nbdkit", "-f", "-U", rateSocket.toString(),
                            "--filter=rate", "nbd", "socket=" + qemuSocket, "export=shared", "rate=" + rateMbit + "M"));
                        uris.add("nbd+unix:///?socket=" + rateSocket);
                    }
                    final Rig rig = new Rig(uris, size, bs, depth, 100 + round);
                    try
                    {
                        rig.run(TimeUnit.SECONDS.toNanos(1));
                        rig.guest.startRecording();
                        final long start = System.nanoTime();
                        rig.run(TimeUnit.SECONDS.toNanos(seconds));
                        final double elapsed = (System.nanoTime() - start) / 1e9;
                        rig.guest.stopRecording();
                        rig.check();
                        mbps[paths - 1] = rig.guest.completed() * (double)bs / elapsed / 1e6;
                    }
                    finally
                    {
                        rig.close();
                        stop(processes, started);
                    }
                }
                rows.add(new double[] {mbps[0], mbps[1], mbps[1] / mbps[0]});
                System.out.printf("round %d: 1 path %.2f MB/s, 2 paths %.2f MB/s, ratio %.3f (cap %.1f MB/s per path)  [load %s]%n",
                    round, mbps[0], mbps[1], mbps[1] / mbps[0], rateMbit / 8.0, FileVsFio.load());
            }
            System.out.printf("median: 1 path %.2f MB/s, 2 paths %.2f MB/s, ratio %.3f (goal >= 1.8)%n",
                FileVsFio.median(rows, 0), FileVsFio.median(rows, 1), FileVsFio.median(rows, 2));

            System.out.printf("NbdPaths: failover: two qemu-nbd paths (uncapped), 4 KiB random reads, depth %d, SIGKILL one, %d trials%n",
                depth, trials);
            final List<double[]> stalls = new ArrayList<>();
            for (int trial = 0; trial < trials; trial++)
            {
                final List<String> uris = new ArrayList<>();
                final List<Process> started = new ArrayList<>();
                for (int p = 0; p < 2; p++)
                {
                    final Path socket = dir.resolve("k" + trial + "-" + p + ".sock");
                    started.add(start(processes, dir, socket, "qemu-nbd", "-t", "-e", "8", "--cache=none",
                        "-x", "shared", "--socket=" + socket, "--image-opts",
                        "driver=raw,cache.direct=on,file.driver=file,file.filename=" + image + ",file.locking=off"));
                    uris.add("nbd+unix:///shared?socket=" + socket);
                }
                final Rig rig = new Rig(uris, size, 4096, depth, 500 + trial);
                try
                {
                    rig.run(TimeUnit.SECONDS.toNanos(1));
                    rig.guest.startRecording();
                    rig.run(TimeUnit.SECONDS.toNanos(2));
                    rig.guest.stopRecording();
                    final double beforeMax = rig.guest.latency().getMaxValue() / 1e3;
                    final double beforeP99 = rig.guest.latency().getValueAtPercentile(99) / 1e3;
                    rig.guest.startRecording();
                    started.get(trial % 2).destroyForcibly();
                    rig.run(TimeUnit.SECONDS.toNanos(2));
                    rig.guest.stopRecording();
                    final double stall = rig.guest.latency().getMaxValue() / 1e3;
                    final boolean down = !rig.cards.get(trial % 2).isLinkUp();
                    rig.check();
                    stalls.add(new double[] {stall, beforeMax, beforeP99});
                    System.out.printf("trial %d: stall (longest request after the kill) %.0f us; before the kill: max %.0f us, p99 %.0f us; killed card down %s, guest errors 0  [load %s]%n",
                        trial, stall, beforeMax, beforeP99, down, FileVsFio.load());
                }
                finally
                {
                    rig.close();
                    stop(processes, started);
                }
            }
            final double max = stalls.stream().mapToDouble(s -> s[0]).max().orElse(Double.NaN);
            System.out.printf("failover stall: median %.0f us, max %.0f us over %d trials (no kill, same windows: median of max %.0f us, median p99 %.0f us)%n",
                FileVsFio.median(stalls, 0), max, stalls.size(), FileVsFio.median(stalls, 1), FileVsFio.median(stalls, 2));
        }
        finally
        {
            cleanUp(processes, dir);
        }
    }

    private static String arg(final String[] args, final int i, final String fallback)
    {
        return args.length > i ? args[i] : fallback;
    }

    /** The aggregated device over NBD cards, the guest and every agent run in one loop on the calling thread. */
    static final class Rig implements AutoCloseable
    {
        final List<NbdBlockCard> cards = new ArrayList<>();
        final RandomBlkLoop loop;
        final RandomBlkGuest guest;
        final Agent[] agents;

        Rig(final List<String> uris, final long size, final int bs, final int depth, final long seed) throws IOException
        {
            for (int i = 0; i < uris.size(); i++)
            {
                cards.add(NbdBlockCard.open(new NbdCardContext().uri(uris.get(i)).name("path" + i).queueCount(1)
                    .queueDepth(Math.max(32, depth)).requestTimeout(5, TimeUnit.SECONDS)
                    .reconnectBackoff(10, 2000, TimeUnit.MILLISECONDS)));
            }
            loop = new RandomBlkLoop(cards, size, bs, depth, false, seed, TimeUnit.SECONDS.toNanos(3),
                AggregatorContext.DEFAULT_CARD_WAIT_NANOS);
            guest = loop.guest;
            agents = loop.agents;
        }

        void run(final long nanos) throws Exception
        {
            final long end = System.nanoTime() + nanos;
            int i = 0;
            while ((++i & 63) != 0 || System.nanoTime() - end < 0)
            {
                int work = 0;
                for (final Agent agent : agents)
                {
                    work += agent.doWork();
                }
                if (work == 0)
                {
                    // The NBD card's I/O runs on Netty's event loop: leave it the CPU.
                    Thread.yield();
                }
            }
        }

        void check()
        {
            if (guest.errors() > 0)
            {
                throw new IllegalStateException(guest.errors() + " guest errors");
            }
        }

        @Override
        public void close()
        {
            loop.close();
            for (final NbdBlockCard card : cards)
            {
                card.close();
            }
        }
    }

    private static Process start(final List<Process> all, final Path dir, final Path socket, final String... command)
        throws IOException, InterruptedException
    {
        final Path log = dir.resolve(socket.getFileName() + ".log");
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        all.add(process);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Files.exists(socket))
        {
            if (!process.isAlive() || System.nanoTime() > deadline)
            {
                throw new IOException(command[0] + " did not start: " + String.join(" ", command) + "\n" + Files.readString(log));
            }
            Thread.sleep(10);
        }
        return process;
    }

    private static void stop(final List<Process> all, final List<Process> processes) throws InterruptedException
    {
        for (final Process process : processes)
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            all.remove(process);
        }
    }

    private static synchronized void cleanUp(final List<Process> processes, final Path dir)
    {
        for (final Process process : new ArrayList<>(processes))
        {
            process.destroyForcibly();
        }
        processes.clear();
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException | RuntimeException ignored)
        {
            // Already gone.
        }
    }
}
