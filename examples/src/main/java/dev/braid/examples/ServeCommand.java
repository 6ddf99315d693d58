package dev.braid.examples;

import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;
import dev.braid.cards.nbd.NbdBlockCard;
import dev.braid.cards.nbd.NbdCardContext;
import dev.braid.cards.nbd.NbdUri;
import dev.braid.examples.serve.ServeFaults;
import dev.braid.examples.serve.ServeStatus;
import dev.braid.examples.soak.Policies;
import dev.braid.examples.soak.UsageException;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.vhostuser.BlkBackendDevice;
import dev.braid.vhostuser.VhostUserBackend;
import dev.braid.vhostuser.VhostUserServer;
import dev.braid.virtio.card.BlockCard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code braid serve}: one aggregated virtio-blk device over vhost-user, for QEMU's
 * {@code vhost-user-blk-pci}, until SIGINT or SIGTERM (or, with {@code --client}, until QEMU
 * hangs up). Every flag and card spec is checked before anything is opened or bound.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve one virtio device to a VMM over vhost-user (QEMU: -device vhost-user-blk-pci), " +
        "aggregated over the given cards, until SIGINT/SIGTERM.")
public final class ServeCommand implements Callable<Integer>
{
    /** sim cards live in one heap array. */
    static final long MAX_SIM_BYTES = 1L << 30;
    static final int MAX_QUEUES = 64;
    /** What QEMU waits for before it gives up on a vhost-user socket it listens on is its own business; ours is this. */
    private static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    @Spec
    CommandSpec spec;

    @Option(names = "--device", paramLabel = "blk", description = "Device type (blk only, for now). Default: ${DEFAULT-VALUE}.")
    String device = "blk";

    @Option(names = "--socket", paramLabel = "PATH", required = true,
        description = "vhost-user unix socket: bound here (replacing a stale one), or with --client connected to.")
    Path socket;

    @Option(names = "--client", description = "Connect to a VMM that listens on --socket (QEMU chardev server=on).")
    boolean client;

    @Option(names = "--card", paramLabel = "SPEC", required = true,
        description = "A card, repeatable: sim:SIZE (e.g. sim:64M; all sim cards share one store), " +
            "nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH or file:PATH (a file or block device, io_uring); " +
            "all paths to the same disk.")
    List<String> cards = new ArrayList<>();

    @Option(names = "--mode", paramLabel = "aa|ap", description = "Active-active (queue-affine) or active-passive. Default: ${DEFAULT-VALUE}.")
    String mode = "aa";

    @Option(names = "--queues", paramLabel = "N", description = "Request queues offered, 1.." + MAX_QUEUES + ". Default: ${DEFAULT-VALUE}.")
    int queues = 1;

    @Option(names = "--queue-size", paramLabel = "N", description = "Largest ring size accepted, a power of two 1..32768. Default: ${DEFAULT-VALUE}.")
    int queueSize = 256;

    @Option(names = "--force-identity", description = "Serve cards that provably serve different disks (different files or sizes).")
    boolean forceIdentity;

    @Option(names = "--selector", paramLabel = "NAME", description = "Active-active selector: round-robin, least-outstanding, " +
        "service-time, flow-hash, queue-affine. Default: queue-affine.")
    String selector;

    @Option(names = "--faults", paramLabel = "PROFILE|FILE", description = "Faults played on the sim cards, as in braid soak: " +
        "none, light, heavy, demo (drawn over 60 s from --seed) or a schedule file; time 0 is the first device start. " +
        "Default: ${DEFAULT-VALUE}.")
    String faults = "none";

    @Option(names = "--seed", description = "Seed of the --faults profiles. Default: ${DEFAULT-VALUE}.")
    long seed = 1;

    @Option(names = "--progress", description = "Draw the live status line even when stderr is not a terminal.")
    boolean progress;

    /** The operator's extras, checked by {@link #plan()}: fault plan, status line. */
    record Ops(String faults, long seed, boolean statusLine)
    {
    }

    /** The checked form of the flags: nothing opened yet. */
    record Plan(Path socket, boolean client, long simBytes, int simCards, List<NbdUri> nbd, List<Path> files, Aggregation aggregation,
        int queues, int queueSize, boolean forceIdentity)
    {

        int cardCount()
        {
            return simCards + nbd.size() + files.size();
        }
    }

    public Integer call() throws Exception
    {
        final Plan plan = plan();
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        return serve(plan, new Ops(faults, seed, progress || ServeStatus.isTerminal()), out, err);
    }

    /** Checks every flag; one-line {@link UsageException} naming the bad value. */
    Plan plan()
    {
        if (!"blk".equals(device))
        {
            throw new UsageException("--device " + device + ": only blk is served over vhost-user so far");
        }
        final Path parent = socket.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent))
        {
            throw new UsageException("--socket " + socket + ": directory " + parent + " does not exist");
        }
        if (!client && Files.exists(socket) && !isSocket(socket))
        {
            throw new UsageException("--socket " + socket + ": exists and is not a socket");
        }
        if (cards.isEmpty())
        {
            throw new UsageException("--card: at least one card is needed");
        }
        long simBytes = -1;
        int simCards = 0;
        final List<NbdUri> nbd = new ArrayList<>();
        final List<Path> files = new ArrayList<>();
        for (final String card : cards)
        {
            if (card.startsWith("sim:"))
            {
                final long bytes = parseSize(card);
                if (simBytes >= 0 && bytes != simBytes)
                {
                    throw new UsageException("--card " + card + ": sim cards share one store, so one size (first was " + simBytes + " bytes)");
                }
                simBytes = bytes;
                simCards++;
            }
            else if (card.startsWith("nbd:") || card.startsWith("nbd+unix:"))
            {
                try
                {
                    nbd.add(NbdUri.parse(card));
                }
                catch (final IllegalArgumentException ex)
                {
                    throw new UsageException("--card: " + ex.getMessage());
                }
            }
            else if (card.startsWith("file:"))
            {
                files.add(filePath(card, forceIdentity ? List.of() : files));
            }
            else
            {
                throw new UsageException("--card " + card + ": expected sim:SIZE, nbd://HOST[:PORT]/EXPORT, " +
                    "nbd+unix:///EXPORT?socket=PATH or file:PATH");
            }
        }
        if (simCards > 0 && !nbd.isEmpty())
        {
            throw new UsageException("--card: sim and nbd cards do not share data; use one kind");
        }
        if (simCards > 0 && !files.isEmpty())
        {
            throw new UsageException("--card: sim and file cards do not share data; use one kind");
        }
        final Aggregation aggregation = switch (mode.toLowerCase(Locale.ROOT))
        {
            case "aa" -> Aggregation.activeActive(Policies.selector(selector, "queue-affine"));
            case "ap" -> Aggregation.activePassive(Failback.manual());
            default -> throw new UsageException("--mode " + mode + ": expected aa or ap");
        };
        if (aggregation.isActivePassive() && selector != null)
        {
            throw new UsageException("--selector " + selector + ": applies to --mode aa only (active-passive is queue-affine)");
        }
        if (queues < 1 || queues > MAX_QUEUES)
        {
            throw new UsageException("--queues " + queues + ": expected 1.." + MAX_QUEUES);
        }
        if (queueSize < 1 || queueSize > 32768 || Integer.bitCount(queueSize) != 1)
        {
            throw new UsageException("--queue-size " + queueSize + ": expected a power of two 1..32768");
        }
        if ((long)queues * Math.max(queueSize, 64) > 65536)
        {
            throw new UsageException("--queues " + queues + " x --queue-size " + queueSize + ": over 65536 ring entries in all");
        }
        ServeFaults.validate(faults, simCards, simCards + nbd.size() + files.size());
        return new Plan(socket, client, simBytes, simCards, List.copyOf(nbd), List.copyOf(files), aggregation, queues, queueSize,
            forceIdentity);
    }

    /**
     * {@code file:PATH}: an existing regular file or block device whose size is a whole number of
     * sectors. Every file card must be the same file (same device and inode): two different files
     * are provably two disks, not two paths to one.
     */
    private static Path filePath(final String card, final List<Path> earlier)
    {
        final String text = card.substring("file:".length());
        if (text.isEmpty())
        {
            throw new UsageException("--card " + card + ": file: needs a path (file:/path/to/disk.img)");
        }
        final Path path = Path.of(text);
        try
        {
            final boolean block = "block".equals(kindOf(path));
            if (!Files.isRegularFile(path) && !block)
            {
                throw new UsageException("--card " + card + ": not a regular file or block device");
            }
            if (!block && (Files.size(path) < 512 || Files.size(path) % 512 != 0))
            {
                throw new UsageException("--card " + card + ": size " + Files.size(path) + " is not a whole number of 512-byte sectors");
            }
            for (final Path other : earlier)
            {
                if (!Files.isSameFile(other, path))
                {
                    throw new UsageException("--card " + card + ": not the same file as file:" + other +
                        " (different device or inode: two disks, not two paths to one)");
                }
            }
        }
        catch (final java.nio.file.NoSuchFileException ex)
        {
            throw new UsageException("--card " + card + ": no such file");
        }
        catch (final java.io.IOException ex)
        {
            throw new UsageException("--card " + card + ": " + ex.getMessage());
        }
        return path;
    }

    private static String kindOf(final Path path) throws java.io.IOException
    {
        if (!Files.exists(path))
        {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        final int mode = (Integer)Files.getAttribute(path, "unix:mode");
        return (mode & 0170000) == 0060000 ? "block" : "other";
    }

    private static boolean isSocket(final Path path)
    {
        try
        {
            return ((Integer)Files.getAttribute(path, "unix:mode") & 0170000) == 0140000;
        }
        catch (final java.io.IOException | UnsupportedOperationException ex)
        {
            return false;
        }
    }

    /** {@code sim:SIZE}: bytes, or K/M/G (binary) suffixed; a multiple of 512, 1 MiB..1 GiB. */
    static long parseSize(final String card)
    {
        final String text = card.substring("sim:".length()).trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        String digits = text;
        if (!text.isEmpty())
        {
            switch (text.charAt(text.length() - 1))
            {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 1;
            }
            digits = unit == 1 ? text : text.substring(0, text.length() - 1);
        }
        final long value;
        try
        {
            value = Long.parseLong(digits);
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException("--card " + card + ": size is not a number (e.g. sim:64M)");
        }
        if (value <= 0 || value > MAX_SIM_BYTES / unit || value * unit < (1 << 20) || (value * unit) % SharedBlockStore.SECTOR_SIZE != 0)
        {
            throw new UsageException("--card " + card + ": size must be 1M..1G and a multiple of 512 bytes");
        }
        return value * unit;
    }

    /** Opens the cards, serves until a signal (or, as a client, until the VMM hangs up), closes everything. */
    static int serve(final Plan plan, final Ops ops, final PrintWriter out, final PrintWriter err) throws Exception
    {
        final CountDownLatch stop = new CountDownLatch(1);
        final SignalHandler onSignal = signal -> stop.countDown();
        final SignalHandler oldInt = Signal.handle(new Signal("INT"), onSignal);
        final SignalHandler oldTerm = Signal.handle(new Signal("TERM"), onSignal);
        final List<BlockCard> cards = new ArrayList<>();
        final List<AutoCloseable> closeables = new ArrayList<>();
        VhostUserServer server = null;
        try
        {
            if (plan.simCards() > 0)
            {
                final SharedBlockStore store = new SharedBlockStore(plan.simBytes() / SharedBlockStore.SECTOR_SIZE);
                for (int i = 0; i < plan.simCards(); i++)
                {
                    cards.add(SimDisk.builder("sim" + i, store).queues(plan.queues(), plan.queueSize()).build());
                }
            }
            for (int i = 0; i < plan.nbd().size(); i++)
            {
                final NbdUri uri = plan.nbd().get(i);
                final NbdBlockCard card;
                try
                {
                    card = NbdBlockCard.open(new NbdCardContext().uri(uri).name("nbd" + i)
                        .queueCount(plan.queues()).queueDepth(Math.min(plan.queueSize(), 128)));
                }
                catch (final java.io.IOException ex)
                {
                    err.println("braid: nbd card nbd" + i + " (" + uri + "): " + ex.getMessage());
                    return BraidCli.INVARIANT_BROKEN;
                }
                cards.add(card);
                closeables.add(card);
            }
            for (int i = 0; i < plan.files().size(); i++)
            {
                final Path file = plan.files().get(i);
                final FileBlockCard card;
                try
                {
                    card = FileBlockCard.open(new FileCardContext().spec("file:" + file).name("file" + i)
                        .queueCount(plan.queues()).queueDepth(Math.min(plan.queueSize(), 128)));
                }
                catch (final RuntimeException ex)
                {
                    err.println("braid: file card file" + i + " (" + file + "): " + ex.getMessage());
                    return BraidCli.INVARIANT_BROKEN;
                }
                cards.add(card);
                closeables.add(card);
            }
            // Different capacities: provably different disks, not paths to one.
            for (final BlockCard card : cards)
            {
                if (!plan.forceIdentity() && card.capacitySectors() != cards.get(0).capacitySectors())
                {
                    err.println("braid: --card " + card.name() + ": " + card.capacitySectors() * 512 + " bytes, but " +
                        cards.get(0).name() + " has " + cards.get(0).capacitySectors() * 512 +
                        " (different sizes: two disks, not two paths to one; --force-identity to serve anyway)");
                    return BraidCli.USAGE;
                }
            }
            final java.util.function.Consumer<String> log = line ->
            {
                err.println(line);
                err.flush();
            };
            final BlkBackendDevice device = new BlkBackendDevice(cards, plan.queues(), plan.queueSize(), 1, plan.aggregation());
            final VhostUserBackend backend = new VhostUserBackend(device, 32, log);
            final ServeStatus status = new ServeStatus(device::runningDevice, cards.stream().map(BlockCard::name).toList(),
                ops.statusLine() ? err : null, System.nanoTime());
            final ServeFaults faults = ServeFaults.of(ops.faults(), ops.seed(),
                cards.stream().filter(FaultTarget.class::isInstance).map(FaultTarget.class::cast).toList(), line ->
                {
                    status.finishLine(); // a fault's line starts on its own line, the live line redraws below it
                    log.accept(line);
                });
            server = plan.client() ?
                VhostUserServer.connect(plan.socket(), backend, log, CONNECT_TIMEOUT_NANOS) :
                new VhostUserServer(plan.socket(), backend, log);
            out.println("braid serve: blk on " + plan.socket() + (plan.client() ? " (connecting)" : " (listening)") +
                ", " + plan.cardCount() + " card(s) " + cards.stream().map(BlockCard::name).toList() + ", " + (plan.aggregation().isActivePassive() ? "ap" : "aa") +
                ", " + plan.queues() + " queue(s) x " + plan.queueSize());
            out.flush();
            while (!stop.await(10, TimeUnit.MILLISECONDS))
            {
                final long now = System.nanoTime();
                status.sample(now);
                faults.poll(device.runningDevice() != null, now);
                if (server.isFinished())
                {
                    break;
                }
            }
            status.sample(System.nanoTime());
            server.close();
            final long served = server.connectionsServed(); // after close: a connection SIGTERM ended counts
            server = null;
            status.sample(System.nanoTime());
            status.finishLine();
            out.println("braid serve: stopped after " + served + " connection(s)");
            out.print(status.report(System.nanoTime(), served, faults));
            out.flush();
            return BraidCli.OK;
        }
        finally
        {
            if (server != null)
            {
                server.close();
            }
            for (final AutoCloseable closeable : closeables)
            {
                closeable.close();
            }
            Signal.handle(new Signal("INT"), oldInt);
            Signal.handle(new Signal("TERM"), oldTerm);
        }
    }
}
