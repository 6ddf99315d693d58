package dev.braid.examples.faults;

import dev.braid.testkit.DiskImages;
import dev.braid.testkit.UdpEcho;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    /** A running server: the URI a card connects to, and its process (kill it for a crash). */
    public record Server(String uri, Process process)
    {
        /** SIGKILL, as a crashed server. */
        public void kill() throws InterruptedException
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The lab network: TAP names, and the namespace's addresses. */
    public record Network(List<String> taps, String guestIp, String peerIp, String peerMac)
    {
    }

    private final Path dir;
    private final String id;
    private final List<Process> processes = new ArrayList<>();
    private final List<List<String>> undo = new ArrayList<>();
    private int servers;

    private RealPeerLab(final Path dir)
    {
        this.dir = dir;
        this.id = Long.toString(ProcessHandle.current().pid() % 100_000, 36);
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
            else if (!onPath(need))
            {
                return need;
            }
        }
        return null;
    }

    private static boolean onPath(final String executable)
    {
        for (final String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
        {
            if (Files.isExecutable(Path.of(d, executable)))
            {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", executable)) || Files.isExecutable(Path.of("/sbin", executable));
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
    public Server qemuNbd(final Path image) throws IOException, InterruptedException
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
    public Server qemuNbd(final Path image, final boolean direct) throws IOException, InterruptedException
    {
        final int n = servers++;
        final Path socket = dir.resolve("qemu-nbd-" + n + ".sock");
        final Path pid = dir.resolve("qemu-nbd-" + n + ".pid");
        return start(List.of("qemu-nbd", "-t", "-e", "8", "--cache=" + (direct ? "none" : "writeback"), "-x", "disk",
            "--pid-file", pid.toString(), "--socket=" + socket, "--image-opts",
            "driver=raw,cache.direct=" + (direct ? "on" : "off") + ",file.driver=file,file.filename=" + image +
            ",file.locking=off"),
            pid, "nbd+unix:///disk?socket=" + socket);
    }

    /** nbdkit's file plugin over {@code image} on a unix socket, with {@code filters} and their arguments. */
    public Server nbdkit(final Path image, final List<String> filters, final String... filterArgs)
        throws IOException, InterruptedException
    {
        final int n = servers++;
        final Path socket = dir.resolve("nbdkit-" + n + ".sock");
        final Path pid = dir.resolve("nbdkit-" + n + ".pid");
        final List<String> command = new ArrayList<>(List.of("nbdkit", "-f", "-U", socket.toString(), "-P", pid.toString()));
        for (final String filter : filters)
        {
            command.add("--filter=" + filter);
        }
        command.add("file");
        command.add("file=" + image);
        command.addAll(List.of(filterArgs));
        return start(command, pid, "nbd+unix:///?socket=" + socket);
    }

    private Server start(final List<String> command, final Path pid, final String uri) throws IOException, InterruptedException
    {
        final Path log = dir.resolve("server-" + servers + ".log");
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Files.exists(pid) || Files.size(pid) == 0)
        {
            if (!process.isAlive() || System.nanoTime() > deadline)
            {
                throw new IOException("server did not start: " + String.join(" ", command) + ": " +
                    Files.readString(log).trim());
            }
            Thread.sleep(10);
        }
        return new Server(uri, process);
    }

    /**
     * A bridge with {@code tapCount} persistent multi-queue TAPs and a veth into a namespace at
     * 10.232.N.2/24 that echoes UDP on port 7 and knows the guest (10.232.N.10) by {@link #GUEST_MAC}.
     */
    public Network network(final int tapCount) throws IOException, InterruptedException
    {
        final int subnet = 20 + (int)(ProcessHandle.current().pid() % 200);
        final String bridge = "bwbr" + id;
        final String hostVeth = "bwvh" + id;
        final String peerVeth = "bwvp" + id;
        final String namespace = "braid-wire-" + id;
        final String peerIp = "10.232." + subnet + ".2";
        final String guestIp = "10.232." + subnet + ".10";
        undo.add(List.of("ip", "link", "del", bridge));
        run("ip", "link", "add", bridge, "type", "bridge", "mcast_snooping", "0");
        sysctlOff(bridge);
        run("ip", "link", "set", bridge, "multicast", "off");
        run("ip", "link", "set", bridge, "up");
        final List<String> taps = new ArrayList<>();
        for (int i = 0; i < tapCount; i++)
        {
            final String tap = "bwt" + (char)('a' + i) + id;
            undo.add(List.of("ip", "link", "del", tap));
            run("ip", "tuntap", "add", "dev", tap, "mode", "tap", "multi_queue", "vnet_hdr");
            sysctlOff(tap);
            run("ip", "link", "set", tap, "master", bridge, "up");
            taps.add(tap);
        }
        undo.add(List.of("ip", "netns", "del", namespace));
        run("ip", "netns", "add", namespace);
        undo.add(List.of("ip", "link", "del", hostVeth));
        run("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", peerVeth);
        sysctlOff(hostVeth);
        run("ip", "link", "set", peerVeth, "netns", namespace);
        run("ip", "link", "set", hostVeth, "master", bridge, "up");
        run("ip", "netns", "exec", namespace, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6");
        run("ip", "netns", "exec", namespace, "ip", "addr", "add", peerIp + "/24", "dev", peerVeth);
        run("ip", "netns", "exec", namespace, "ip", "link", "set", peerVeth, "multicast", "off");
        run("ip", "netns", "exec", namespace, "ip", "link", "set", peerVeth, "up");
        run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up");
        run("ip", "netns", "exec", namespace, "ip", "neigh", "replace", guestIp, "lladdr", GUEST_MAC, "dev", peerVeth,
            "nud", "permanent");
        final String peerMac = run("ip", "netns", "exec", namespace, "cat", "/sys/class/net/" + peerVeth + "/address").trim();
        awaitForwarding(hostVeth);
        // Pinned, so the bridge never floods the namespace's frames to the TAPs.
        run("bridge", "fdb", "replace", peerMac, "dev", hostVeth, "master", "static");
        final List<String> echo = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        echo.addAll(UdpEcho.command());
        processes.add(new ProcessBuilder(echo).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        UdpEcho.awaitListening(namespace);
        return new Network(List.copyOf(taps), guestIp, peerIp, peerMac);
    }

    /** Waits until the bridge forwards on {@code ifname} (a TAP gets a carrier only once a queue is attached). */
    public static void awaitForwarding(final String ifname) throws IOException, InterruptedException
    {
        final Path state = Path.of("/sys/class/net", ifname, "brport", "state");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(Files.exists(state) && Files.readString(state).trim().equals("3")))
        {
            if (System.nanoTime() > deadline)
            {
                throw new IOException("bridge port " + ifname + " is not forwarding after 10 s");
            }
            Thread.sleep(10);
        }
    }

    private static void sysctlOff(final String ifname)
    {
        final Path knob = Path.of("/proc/sys/net/ipv6/conf", ifname, "disable_ipv6");
        try
        {
            if (Files.exists(knob))
            {
                Files.writeString(knob, "1");
            }
        }
        catch (final IOException ignored)
        {
            // no IPv6 is fine
        }
    }

    public static String run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": timed out");
        }
        if (process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + ": exit " + process.exitValue() + ": " + output.trim());
        }
        return output;
    }

    public void close()
    {
        for (final Process p : processes)
        {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (final Process p : processes)
        {
            try
            {
                p.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        for (int i = undo.size() - 1; i >= 0; i--)
        {
            try
            {
                final Process p = new ProcessBuilder(undo.get(i)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final IOException ex)
            {
                System.err.println("braid: cleanup " + String.join(" ", undo.get(i)) + ": " + ex.getMessage());
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
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
