package dev.braid.examples.faults;

import dev.braid.testkit.DiskImages;
import dev.braid.testkit.NbdServers;
import dev.braid.testkit.RealPeers;
import dev.braid.testkit.TapNetwork;
import dev.braid.testkit.UdpEcho;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The real peers of the real-card fault scenarios, started and removed by them: raw images in a
 * fresh directory, {@code qemu-nbd} and {@code nbdkit} servers on unix sockets over them, and a
 * small network (a bridge with TAPs and a veth into a fresh namespace that runs a real Linux stack
 * and a UDP echo on port 7). Names and the subnet derive from the JVM's pid; {@link #close()}
 * kills every process and deletes every interface, namespace and file, also after a half-built setup.
 */
public final class RealPeerLab implements AutoCloseable
{
    /** The device MAC of the soak's net rig, which the namespace reaches without ARP. */
    public static final String GUEST_MAC = "52:54:00:aa:00:01";

    /** The lab network: TAP names, the namespace's addresses, the namespace and the bridge. */
    public record Network(List<String> taps, String guestIp, String peerIp, String peerMac, String namespace, String bridge)
    {
    }

    private final Path dir;
    private final NbdServers servers;
    private TapNetwork network;

    private RealPeerLab(final Path dir)
    {
        this.dir = dir;
        this.servers = new NbdServers(dir);
    }

    public static RealPeerLab create() throws IOException
    {
        // tmpfs when there is one: the scenarios test paths and failover, not the machine's disk.
        final Path shm = Path.of("/dev/shm");
        return new RealPeerLab(Files.isDirectory(shm) && Files.isWritable(shm) ?
            Files.createTempDirectory(shm, "braid-lab") : Files.createTempDirectory("braid-lab"));
    }

    /** The first peer of {@code needs} missing here ("root", or an executable), or null when all are present. */
    public static String missing(final String... needs)
    {
        for (final String need : needs)
        {
            if ("root".equals(need))
            {
                if (!"root".equals(System.getProperty("user.name")))
                {
                    return "root";
                }
            }
            else if (RealPeers.findExecutable(need) == null)
            {
                return need;
            }
        }
        return null;
    }

    public Path dir()
    {
        return dir;
    }

    /** A sparse zero-filled raw image. */
    public Path image(final String name, final long size) throws IOException
    {
        return DiskImages.sparse(dir.resolve(name), size);
    }

    /**
     * qemu-nbd over {@code image} on a unix socket, several clients, no image locking (two may share it),
     * through the page cache: two of these over one image are two coherent paths to one disk.
     */
    public NbdServers.Server qemuNbd(final Path image) throws IOException, InterruptedException
    {
        return qemuNbd(image, false);
    }

    /**
     * qemu-nbd as {@link #qemuNbd(Path)}, with O_DIRECT when {@code direct}. Two O_DIRECT servers over one
     * image are not coherent for 512-byte writes: each server read-modify-writes what is smaller than its
     * request alignment (4096 on tmpfs) or leaves the partial-block zeroing of a sparse file to the file
     * system, and nothing serializes one process's RMW against the other's. A write to a neighbouring
     * sector through the other path is then lost. Braid's paths must be coherent; this one is for the
     * test that shows the soak's model catches a storage that is not.
     */
    public NbdServers.Server qemuNbd(final Path image, final boolean direct) throws IOException, InterruptedException
    {
        return direct ? servers.qemuNbd(image, "disk", true) : servers.qemuNbdPath(image, "disk", true);
    }

    /** nbdkit's file plugin over {@code image} on a unix socket, with {@code filters} and their arguments. */
    public NbdServers.Server nbdkit(final Path image, final List<String> filters, final String... filterArgs)
        throws IOException, InterruptedException
    {
        final List<String> args = new ArrayList<>(List.of("file", "file=" + image));
        args.addAll(List.of(filterArgs));
        return servers.nbdkit(filters, args.toArray(new String[0]));
    }

    /**
     * A bridge with {@code tapCount} persistent multi-queue TAPs and a veth into a namespace at
     * 10.232.N.2/24 that echoes UDP on port 7 and knows the guest (10.232.N.10) by {@link #GUEST_MAC}.
     */
    public Network network(final int tapCount) throws IOException, InterruptedException
    {
        network = TapNetwork.create(tapCount, "wire", 232);
        network.staticNeighbour(network.guestIp(), Long.parseLong(GUEST_MAC.replace(":", ""), 16));
        network.startInNamespace(UdpEcho.command().toArray(new String[0]));
        UdpEcho.awaitListening(network.namespace());
        return new Network(network.taps(), TapNetwork.ipString(network.guestIp()), TapNetwork.ipString(network.namespaceIp()),
            TapNetwork.macString(network.namespaceMac()), network.namespace(), network.bridge());
    }

    public void close()
    {
        servers.close();
        if (network != null)
        {
            network.close();
        }
        try (var files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        catch (final IOException ex)
        {
            System.err.println("braid: cleanup " + dir + ": " + ex.getMessage());
        }
    }
}
