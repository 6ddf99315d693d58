package dev.braid.examples;

import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;
import dev.braid.cards.nbd.NbdBlockCard;
import dev.braid.cards.nbd.NbdCardContext;
import dev.braid.cards.nbd.NbdUri;
import dev.braid.cards.tap.TapCardContext;
import dev.braid.cards.tap.TapNetCard;
import dev.braid.examples.serve.ServeFaults;
import dev.braid.examples.serve.ServeStatus;
import dev.braid.examples.soak.Policies;
import dev.braid.examples.soak.UsageException;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.sim.scsi.SimHba;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.vhostuser.BackendDevice;
import dev.braid.vhostuser.BlkBackendDevice;
import dev.braid.vhostuser.NetBackendDevice;
import dev.braid.vhostuser.ScsiBackendDevice;
import dev.braid.vhostuser.VhostUserBackend;
import dev.braid.vhostuser.VhostUserServer;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.scsi.emulator.BlockScsiCard;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import org.agrona.concurrent.SystemNanoClock;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code braid serve}: one aggregated virtio-blk device over vhost-user, for QEMU's
 * {@code vhost-user-blk-pci}, one virtio-net device for {@code -netdev vhost-user} with
 * {@code virtio-net-pci}, or with {@code --device scsi} one virtio-scsi device (target 0, LUN 0
 * on the cards: each file or nbd card becomes an HBA path, {@link BlockScsiCard}; sim cards are
 * sim HBAs over one sim LUN) for {@code vhost-user-scsi-pci}, until SIGINT or SIGTERM (or, with
 * {@code --client}, until QEMU hangs up). Every flag and card spec is checked before anything is
 * opened or bound. The status line, the report and {@code --faults} (on sim cards) work alike for
 * the three devices, through {@link BackendDevice#runningDevice()}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve one virtio device to a VMM over vhost-user (QEMU: -device vhost-user-blk-pci, " +
        "-netdev vhost-user with -device virtio-net-pci, or -device vhost-user-scsi-pci), " +
        "aggregated over the given cards, until SIGINT/SIGTERM.")
public final class ServeCommand implements Callable<Integer>
{
    /** sim cards live in one heap array. */
    static final long MAX_SIM_BYTES = 1L << 30;
    static final int MAX_QUEUES = 64;
    /** QEMU's default MAC for the first NIC of a guest: what virtio-net-pci shows when no mac= is given. */
    static final String DEFAULT_MAC = "52:54:00:12:34:56";
    /** The sim segment's peer host, which answers ARP and ICMP (and echoes UDP). */
    static final long SIM_PEER_MAC = 0x525400FE0002L;
    static final int SIM_PEER_IP = FrameBuilder.ipv4(10, 99, 0, 2);
    /** A sim HBA's service latency per command. */
    static final long SIM_HBA_LATENCY_NANOS = 20_000;
    /** What QEMU waits for before it gives up on a vhost-user socket it listens on is its own business; ours is this. */
    private static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    @Spec
    CommandSpec spec;

    @Option(names = "--device", paramLabel = "blk|net|scsi", description = "Device type: blk, net, or scsi (one LUN on the cards). " +
        "Default: ${DEFAULT-VALUE}.")
    String device = "blk";

    @Option(names = "--mac", paramLabel = "MAC", description = "net: the guest's MAC (virtio-net-pci mac=), which every card " +
        "accepts. Default: QEMU's default, ${DEFAULT-VALUE}.")
    String mac = DEFAULT_MAC;

    @Option(names = "--socket", paramLabel = "PATH", required = true,
        description = "vhost-user unix socket: bound here (replacing a stale one), or with --client connected to.")
    Path socket;

    @Option(names = "--client", description = "Connect to a VMM that listens on --socket (QEMU chardev server=on).")
    boolean client;

    @Option(names = "--card", paramLabel = "SPEC", required = true,
        description = "A card, repeatable. blk: sim:SIZE (e.g. sim:64M; all sim cards share one store), " +
            "nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH or file:PATH (a file or block device, io_uring); " +
            "all paths to the same disk. net: sim (a sim NIC on one sim segment whose peer 10.99.0.2 answers ARP and ping) " +
            "or tap:IFNAME (a TAP, created or attached to).")
    List<String> cards = new ArrayList<>();

    @Option(names = "--mode", paramLabel = "aa|ap", description = "Active-active (blk: queue-affine; net: flow-hash) or " +
        "active-passive. Default: ${DEFAULT-VALUE}.")
    String mode = "aa";

    @Option(names = "--queues", paramLabel = "N", description = "Request queues (blk; scsi: num_queues, besides control and event) " +
        "or queue pairs (net) offered, 1.." + MAX_QUEUES + ". Default: ${DEFAULT-VALUE}.")
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
        int queues, int queueSize, boolean forceIdentity, boolean net, long mac, List<String> taps, String device)
    {

        int cardCount()
        {
            return simCards + nbd.size() + files.size() + taps.size();
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
        if (!"blk".equals(device) && !"net".equals(device) && !"scsi".equals(device))
        {
            throw new UsageException("--device " + device + ": expected blk, net or scsi");
        }
        final boolean net = "net".equals(device);
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
        final List<String> taps = new ArrayList<>();
        for (final String card : cards)
        {
            if (net)
            {
                if ("sim".equals(card))
                {
                    simCards++;
                }
                else if (card.startsWith(TapCardContext.SCHEME))
                {
                    try
                    {
                        new TapCardContext().spec(card).conclude();
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        throw new UsageException("--card " + card + ": " + ex.getMessage());
                    }
                    if (taps.contains(card))
                    {
                        throw new UsageException("--card " + card + ": given twice (one card per TAP)");
                    }
                    taps.add(card);
                }
                else
                {
                    throw new UsageException("--card " + card + ": expected sim or tap:IFNAME for --device net");
                }
            }
            else if (card.startsWith("sim:"))
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
        if (simCards > 0 && !taps.isEmpty())
        {
            throw new UsageException("--card: sim and tap cards are not on one network; use one kind");
        }
        if (!net && !DEFAULT_MAC.equals(mac))
        {
            throw new UsageException("--mac " + mac + ": applies to --device net only");
        }
        final long macValue = net ? parseMac(mac) : 0;
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
            // net: a queue pair's rx and tx must not be split over cards, so flows are hashed by default.
            case "aa" -> Aggregation.activeActive(Policies.selector(selector, net ? "flow-hash" : "queue-affine"));
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
        if (net && (long)queues * 2 * Math.max(queueSize, 64) > 65536)
        {
            throw new UsageException("--queues " + queues + " pairs x --queue-size " + queueSize + ": over 65536 ring entries in all");
        }
        ServeFaults.validate(faults, simCards, simCards + nbd.size() + files.size() + taps.size(), net ? "sim" : "sim:SIZE");
        return new Plan(socket, client, simBytes, simCards, List.copyOf(nbd), List.copyOf(files), aggregation, queues, queueSize,
            forceIdentity, net, macValue, List.copyOf(taps), device);
    }

    /** {@code xx:xx:xx:xx:xx:xx}, unicast, not all zero. */
    static long parseMac(final String text)
    {
        if (!text.matches("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}"))
        {
            throw new UsageException("--mac " + text + ": expected six hex octets, e.g. " + DEFAULT_MAC);
        }
        final long value = Long.parseLong(text.replace(":", ""), 16);
        if (value == 0 || (value & 0x0100_0000_0000L) != 0)
        {
            throw new UsageException("--mac " + text + ": not a unicast address");
        }
        return value;
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

    /**
     * One HBA path per block card, all to one LUN: a shared emulator, so every path answers INQUIRY
     * with the same serial and NAA id (multipath tells paths of one LUN by them).
     */
    private static List<ScsiCard> scsiPaths(final List<BlockCard> cards, final Plan plan)
    {
        long capacity = Long.MAX_VALUE;
        long maxTransfer = Long.MAX_VALUE;
        for (final BlockCard card : cards)
        {
            capacity = Math.min(capacity, card.capacitySectors());
            maxTransfer = Math.min(maxTransfer, card.maxTransferBytes());
        }
        final long id = lunId(plan);
        final ScsiDiskEmulator lun = ScsiDiskEmulator.forBlockMedium(capacity, lunSerial(id), id, maxTransfer);
        final List<ScsiCard> paths = new ArrayList<>(cards.size());
        for (final BlockCard card : cards)
        {
            paths.add(new BlockScsiCard(card, lun));
        }
        return paths;
    }

    /**
     * {@code --device scsi --card sim:SIZE}: sim HBAs over one sim LUN on one store (paths to one
     * LUN, the emulator shared), so that {@code --faults} lands on the HBAs themselves.
     */
    private static List<ScsiCard> simHbas(final Plan plan)
    {
        final SharedBlockStore store = new SharedBlockStore(plan.simBytes() / SharedBlockStore.SECTOR_SIZE);
        final long id = lunId(plan);
        final SimTarget[] targets = {new SimTarget(new SimLun(store, new AtomicLong(), lunSerial(id), id))};
        final List<ScsiCard> hbas = new ArrayList<>(plan.simCards());
        for (int i = 0; i < plan.simCards(); i++)
        {
            hbas.add(new SimHba("sim" + i, SystemNanoClock.INSTANCE, targets, plan.queues(), plan.queueSize(), SIM_HBA_LATENCY_NANOS));
        }
        return hbas;
    }

    /** The LUN's id from the first card's spec, so a restarted serve shows the guest the same LUN. */
    private static long lunId(final Plan plan)
    {
        final String first = plan.files().isEmpty() ? plan.nbd().isEmpty() ? "sim:" + plan.simBytes() :
            plan.nbd().get(0).toString() : plan.files().get(0).toAbsolutePath().toString();
        return first.hashCode() & 0xFFFF_FFFFL;
    }

    private static String lunSerial(final long id)
    {
        return String.format(Locale.ROOT, "BRAID%08X", id);
    }

    /**
     * The blk serial (GET_ID, the guest's {@code /sys/block/vdX/serial}): when every card is a file
     * card of one file (device and inode), its {@link FileBlockCard#stableId()}, the same over every
     * path and every run; else null, the device's default (sim stores and NBD exports have no such id).
     */
    static String blkSerial(final List<BlockCard> cards)
    {
        FileBlockCard first = null;
        for (final BlockCard card : cards)
        {
            if (!(card instanceof FileBlockCard file) ||
                first != null && (file.deviceId() != first.deviceId() || file.inode() != first.inode()))
            {
                return null;
            }
            first = first == null ? file : first;
        }
        return first == null ? null : new String(first.stableId(), java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Opens the cards, serves until a signal (or, as a client, until the VMM hangs up), closes everything. */
    static int serve(final Plan plan, final Ops ops, final PrintWriter out, final PrintWriter err) throws Exception
    {
        final CountDownLatch stop = new CountDownLatch(1);
        final SignalHandler onSignal = signal -> stop.countDown();
        final SignalHandler oldInt = Signal.handle(new Signal("INT"), onSignal);
        final SignalHandler oldTerm = Signal.handle(new Signal("TERM"), onSignal);
        final List<BlockCard> cards = new ArrayList<>();
        final List<NetCard> nics = new ArrayList<>();
        final List<AutoCloseable> closeables = new ArrayList<>();
        VhostUserServer server = null;
        try
        {
            if (plan.net())
            {
                final L2Segment segment = plan.simCards() > 0 ? new L2Segment(new PeerHost(SIM_PEER_MAC, SIM_PEER_IP)) : null;
                for (int i = 0; i < plan.simCards(); i++)
                {
                    // One card queue: every guest queue reaches card queue 0, where all received frames land.
                    nics.add(new SimNic("sim" + i, FrameBuilder.macBytes(0x025400CC0000L + i), segment,
                        SystemNanoClock.INSTANCE, 1, 64, 256, 20_000));
                }
                for (int i = 0; i < plan.taps().size(); i++)
                {
                    final String spec = plan.taps().get(i);
                    final TapNetCard tap;
                    try
                    {
                        tap = new TapNetCard(new TapCardContext().spec(spec).name("tap" + i).queueCount(1)
                            .queueDepth(Math.min(plan.queueSize(), 256)));
                    }
                    catch (final RuntimeException ex)
                    {
                        err.println("braid: tap card tap" + i + " (" + spec + "): " + ex.getMessage());
                        return BraidCli.INVARIANT_BROKEN;
                    }
                    nics.add(tap);
                    closeables.add(tap);
                }
            }
            else if (plan.simCards() > 0 && !"scsi".equals(plan.device()))
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
            final BackendDevice device;
            final List<? extends Card> servedCards;
            if (plan.net())
            {
                servedCards = nics;
                device = new NetBackendDevice(nics, plan.queues(), plan.queueSize(), 1, plan.aggregation(), plan.mac());
            }
            else if ("scsi".equals(plan.device()))
            {
                final List<ScsiCard> paths = plan.simCards() > 0 ? simHbas(plan) : scsiPaths(cards, plan);
                servedCards = paths;
                device = new ScsiBackendDevice(paths, plan.queues(), plan.queueSize(), 1, plan.aggregation());
            }
            else
            {
                servedCards = cards;
                device = new BlkBackendDevice(cards, plan.queues(), plan.queueSize(), 1, plan.aggregation(), blkSerial(cards));
            }
            final VhostUserBackend backend = new VhostUserBackend(device, 32, log);
            final List<String> names = servedCards.stream().map(Card::name).toList();
            final java.util.function.Supplier<dev.braid.aggregator.AggregatedDevice<?>> running = device::runningDevice;
            final ServeStatus status = new ServeStatus(running, names, ops.statusLine() ? err : null, System.nanoTime());
            status.events(line ->
            {
                status.finishLine(); // an event starts on its own line, the live line redraws below it
                log.accept(line);
            });
            final ServeFaults faults = ServeFaults.of(ops.faults(), ops.seed(),
                servedCards.stream().filter(FaultTarget.class::isInstance).map(FaultTarget.class::cast).toList(), line ->
                {
                    status.finishLine(); // a fault's line starts on its own line, the live line redraws below it
                    log.accept(line);
                });
            server = plan.client() ?
                VhostUserServer.connect(plan.socket(), backend, log, CONNECT_TIMEOUT_NANOS) :
                new VhostUserServer(plan.socket(), backend, log);
            out.println("braid serve: " + plan.device() + " on " + plan.socket() +
                (plan.client() ? " (connecting)" : " (listening)") + ", " + plan.cardCount() + " card(s) " + names + ", " +
                (plan.aggregation().isActivePassive() ? "ap" : "aa") + ", " + plan.queues() + (plan.net() ? " queue pair(s)" : " queue(s)") +
                " x " + plan.queueSize());
            out.flush();
            while (!stop.await(10, TimeUnit.MILLISECONDS))
            {
                final long now = System.nanoTime();
                status.sample(now);
                faults.poll(running.get() != null, now);
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
            final long fileWaits = cards.stream().filter(FileBlockCard.class::isInstance)
                .mapToLong(card -> ((FileBlockCard)card).waitCalls()).sum();
            if (!plan.files().isEmpty())
            {
                // The agent thread's idle card waits (AgentThreads): sleeps in io_uring_enter for a completion.
                out.println("braid serve: report: file cards slept " + fileWaits + " time(s) in io_uring_enter for a completion");
            }
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
