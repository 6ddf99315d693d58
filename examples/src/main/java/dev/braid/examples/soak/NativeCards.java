package dev.braid.examples.soak;

import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;
import dev.braid.cards.nbd.NbdBlockCard;
import dev.braid.cards.nbd.NbdCardContext;
import dev.braid.cards.nbd.NbdUri;
import dev.braid.cards.tap.TapCardContext;
import dev.braid.cards.tap.TapNetCard;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The soak's {@code --card SPEC} values: native cards ({@code file:PATH}, {@code nbd://HOST[:PORT]/EXPORT},
 * {@code nbd+unix:///EXPORT?socket=PATH}, {@code tap:IFNAME}). {@link #parse} checks every spec and
 * the set as a whole before anything is opened: one kind of device per card class, and for files
 * one file (device and inode) unless identity is forced. {@link #checkSizes} refuses opened block
 * cards of different sizes (provably different disks) on the same terms. Every failure is a one-line
 * {@link UsageException}.
 */
public final class NativeCards
{
    public enum Kind
    {
        FILE, NBD, TAP
    }

    /** One checked spec: nothing opened. */
    public record Spec(Kind kind, String text, Path path, NbdUri uri, String ifname)
    {
        public boolean isBlock()
        {
            return kind != Kind.TAP;
        }
    }

    private NativeCards()
    {
    }

    /** Checks every spec and their mix for {@code device}; throws a one-line {@link UsageException}. */
    public static List<Spec> parse(final List<String> specs, final String device, final boolean forceIdentity)
    {
        final List<Spec> parsed = new ArrayList<>();
        for (final String text : specs)
        {
            parsed.add(parseOne(text));
        }
        if (parsed.size() > SoakConfig.MAX_CARDS)
        {
            throw new UsageException("--card: at most " + SoakConfig.MAX_CARDS + " cards: " + parsed.size() + " given");
        }
        for (final Spec s : parsed)
        {
            if (s.kind() == Kind.TAP && !"net".equals(device))
            {
                throw new UsageException("--card " + s.text() + ": a TAP is a NIC, for --device net (not " + device + ")");
            }
            if (s.isBlock() && !"blk".equals(device))
            {
                throw new UsageException("--card " + s.text() + ": a block card serves --device blk" +
                    ("scsi".equals(device) ? " (SCSI over a block card is not wired into the soak yet)" : " (not " + device + ")"));
            }
        }
        Spec firstFile = null;
        for (final Spec s : parsed)
        {
            if (s.kind() != Kind.FILE)
            {
                continue;
            }
            if (firstFile == null)
            {
                firstFile = s;
            }
            else if (!forceIdentity && !sameFile(firstFile.path(), s.path()))
            {
                throw new UsageException("--card " + s.text() + ": not the same file as " + firstFile.text() +
                    " (different device or inode: two disks, not two paths to one; --force-identity to run anyway)");
            }
        }
        for (int i = 0; i < parsed.size(); i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (parsed.get(i).kind() == Kind.TAP && parsed.get(i).equals(parsed.get(j)))
                {
                    throw new UsageException("--card " + parsed.get(i).text() + ": given twice (one TAP is one NIC)");
                }
            }
        }
        return List.copyOf(parsed);
    }

    private static Spec parseOne(final String text)
    {
        if (text.startsWith("file:"))
        {
            return new Spec(Kind.FILE, text, filePath(text), null, null);
        }
        if (text.startsWith("nbd:") || text.startsWith("nbd+unix:"))
        {
            try
            {
                return new Spec(Kind.NBD, text, null, NbdUri.parse(text), null);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UsageException("--card " + text + ": " + ex.getMessage());
            }
        }
        if (text.startsWith(TapCardContext.SCHEME))
        {
            try
            {
                final TapCardContext context = new TapCardContext().spec(text).conclude();
                if (!Files.isDirectory(Path.of("/sys/class/net", context.ifname())))
                {
                    throw new UsageException("--card " + text + ": no such interface (the soak needs a TAP on the peer's network)");
                }
                return new Spec(Kind.TAP, text, null, null, context.ifname());
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UsageException("--card " + text + ": " + ex.getMessage());
            }
        }
        throw new UsageException("--card " + text + ": expected file:PATH, nbd://HOST[:PORT]/EXPORT, " +
            "nbd+unix:///EXPORT?socket=PATH or tap:IFNAME");
    }

    /** An existing regular file or block device; a file's size a whole number of sectors. */
    private static Path filePath(final String text)
    {
        final String name = text.substring("file:".length());
        if (name.isEmpty())
        {
            throw new UsageException("--card " + text + ": file: needs a path (file:/path/to/disk.img)");
        }
        final Path path = Path.of(name);
        try
        {
            if (!Files.exists(path))
            {
                throw new NoSuchFileException(name);
            }
            final int mode = (Integer)Files.getAttribute(path, "unix:mode");
            final boolean block = (mode & 0170000) == 0060000;
            if (!block && !Files.isRegularFile(path))
            {
                throw new UsageException("--card " + text + ": not a regular file or block device");
            }
            if (!block && (Files.size(path) < 512 || Files.size(path) % 512 != 0))
            {
                throw new UsageException("--card " + text + ": size " + Files.size(path) +
                    " is not a whole number of 512-byte sectors");
            }
        }
        catch (final NoSuchFileException ex)
        {
            throw new UsageException("--card " + text + ": no such file");
        }
        catch (final IOException ex)
        {
            throw new UsageException("--card " + text + ": " + ex.getMessage());
        }
        return path;
    }

    /** Same device and inode: the identity a file card's GET_ID is made of. */
    private static boolean sameFile(final Path a, final Path b)
    {
        try
        {
            return Files.getAttribute(a, "unix:dev").equals(Files.getAttribute(b, "unix:dev")) &&
                Files.getAttribute(a, "unix:ino").equals(Files.getAttribute(b, "unix:ino"));
        }
        catch (final IOException ex)
        {
            throw new UsageException("--card file:" + b + ": " + ex.getMessage());
        }
    }

    /**
     * Opens one block card of {@code spec}; an unreachable server or an unusable file is a one-line
     * {@link UsageException} (nothing has run yet).
     */
    public static BlockCard openBlock(final Spec spec, final String name, final int queues, final int depth)
    {
        try
        {
            if (spec.kind() == Kind.FILE)
            {
                return FileBlockCard.open(new FileCardContext().spec(spec.text()).name(name).queueCount(queues)
                    .queueDepth(depth).maxSegments(16));
            }
            return NbdBlockCard.open(new NbdCardContext().uri(spec.uri()).name(name).queueCount(queues).queueDepth(depth)
                .connectTimeout(5, TimeUnit.SECONDS));
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new UsageException("--card " + spec.text() + ": " + oneLine(ex));
        }
    }

    /** Opens one TAP card (one queue pair, a 12-byte vnet header as VIRTIO_F_VERSION_1 has). */
    public static TapNetCard openTap(final Spec spec, final String name)
    {
        try
        {
            return new TapNetCard(new TapCardContext().spec(spec.text()).name(name).linkCheckInterval(5, TimeUnit.MILLISECONDS));
        }
        catch (final RuntimeException ex)
        {
            throw new UsageException("--card " + spec.text() + ": " + oneLine(ex));
        }
    }

    /**
     * Cards of one device with different capacities serve different disks: refused unless forced.
     * Closes every card before throwing.
     */
    public static void checkSizes(final List<Spec> specs, final List<? extends BlockCard> cards, final boolean forceIdentity)
    {
        for (int i = 1; i < cards.size() && !forceIdentity; i++)
        {
            if (cards.get(i).capacitySectors() != cards.get(0).capacitySectors())
            {
                final String message = "--card " + specs.get(i).text() + ": " + cards.get(i).capacitySectors() * 512 +
                    " bytes, but " + specs.get(0).text() + " has " + cards.get(0).capacitySectors() * 512 +
                    " (different sizes: two disks, not two paths to one; --force-identity to run anyway)";
                closeAll(cards);
                throw new UsageException(message);
            }
        }
    }

    /**
     * Writes zeroes over the first {@code sectors} sectors through {@code card}'s queue 0, one request
     * at a time, before the device exists: the reference model starts from a zeroed range. A failed
     * write is a one-line {@link UsageException}.
     */
    public static void zero(final BlockCard card, final String text, final long sectors)
    {
        final int chunk = 256 << 10;
        final GuestMemory memory = GuestMemory.allocate(chunk);
        final BlockIo io = new BlockIo(1);
        final int[] status = new int[1];
        final boolean[] done = new boolean[1];
        final CompletionSink sink = (token, code, length) ->
        {
            status[0] = code;
            done[0] = true;
            return true;
        };
        for (long sector = 0; sector < sectors; sector += chunk / BlockIo.SECTOR_SIZE)
        {
            io.data().reset(memory);
            io.data().add(0, (int)Math.min(chunk, (sectors - sector) * BlockIo.SECTOR_SIZE));
            io.set(BlockIo.WRITE, sector);
            done[0] = false;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!card.submit(0, io, sector, sink))
            {
                card.poll(0);
                if (System.nanoTime() > deadline)
                {
                    throw new UsageException("--card " + text + ": refuses writes (zeroing the soak's range)");
                }
                Thread.onSpinWait();
            }
            while (!done[0])
            {
                card.poll(0);
                if (System.nanoTime() > deadline)
                {
                    throw new UsageException("--card " + text + ": no answer in 30 s (zeroing the soak's range)");
                }
                Thread.onSpinWait();
            }
            if (status[0] != CardStatus.OK)
            {
                throw new UsageException("--card " + text + ": write failed with status " + status[0] +
                    " (zeroing the soak's range)");
            }
        }
    }

    /** Requests a native block card still holds on {@code queue}. */
    public static int inFlight(final BlockCard card, final int queue)
    {
        if (card instanceof FileBlockCard file)
        {
            return file.inFlight(queue);
        }
        return card instanceof NbdBlockCard nbd ? nbd.inFlight(queue) : 0;
    }

    public static void closeAll(final List<?> cards)
    {
        for (final Object card : cards)
        {
            if (card instanceof AutoCloseable closeable)
            {
                try
                {
                    closeable.close();
                }
                catch (final Exception ex)
                {
                    System.err.println("braid: closing " + card + ": " + oneLine(ex));
                }
            }
        }
    }

    static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        final int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
