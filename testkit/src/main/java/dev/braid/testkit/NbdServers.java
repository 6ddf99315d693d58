package dev.braid.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real NBD servers (qemu-nbd, nbdkit) over images in one directory, for the NBD card tests and the
 * examples' real-peer lab; {@link #close()} kills them. An executable that is missing aborts the
 * caller as {@link RealPeers} does.
 */
public final class NbdServers implements AutoCloseable
{
    /** A running server: the URI a card connects to, its process (kill it for a crash) and its log. */
    public record Server(String uri, Process process, Path log)
    {
        /** SIGKILL, as a crashed server. */
        public void kill() throws InterruptedException
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private final Path dir;
    private final List<Server> servers = new ArrayList<>();

    public NbdServers(final Path dir)
    {
        this.dir = dir;
    }

    /** A raw image of {@code size} bytes, zero-filled (sparse). */
    public Path image(final String name, final long size) throws IOException
    {
        return DiskImages.sparse(dir.resolve(name), size);
    }

    /** qemu-nbd over a raw file: TCP when {@code unix} is false, else a unix socket. Image locking off so two may share a file. */
    public Server qemuNbd(final Path image, final String export, final boolean unix, final String... extra)
        throws IOException, InterruptedException
    {
        return qemuNbd(true, 0, image, export, unix, extra);
    }

    /**
     * qemu-nbd as one of several paths to {@code image}: through the page cache, because two O_DIRECT servers
     * over one image each read-modify-write sub-block writes and lose each other's.
     */
    public Server qemuNbdPath(final Path image, final String export, final boolean unix) throws IOException, InterruptedException
    {
        return qemuNbd(false, 0, image, export, unix);
    }

    /**
     * {@link #qemuNbdPath} behind a qemu throttle group of {@code writesPerSecond} write IOPS: a live server
     * that holds writes it has read, and finishes them after its client has gone.
     */
    public Server qemuNbdThrottledPath(final Path image, final String export, final int writesPerSecond)
        throws IOException, InterruptedException
    {
        return qemuNbd(false, writesPerSecond, image, export, true);
    }

    private Server qemuNbd(final boolean direct, final int writesPerSecond, final Path image, final String export, final boolean unix,
        final String... extra) throws IOException, InterruptedException
    {
        final String qemuNbd = RealPeers.requireExecutable("qemu-nbd").toString();
        final List<String> command = new ArrayList<>(List.of(qemuNbd, "-t", "-e", "8", "--cache=" + (direct ? "none" : "writeback"), "--discard=unmap",
            "-x", export, "--pid-file", ""));
        final Path pid = dir.resolve("qemu-nbd-" + servers.size() + ".pid");
        command.set(command.size() - 1, pid.toString());
        final String uri;
        if (unix)
        {
            final Path socket = dir.resolve("qemu-nbd-" + servers.size() + ".sock");
            command.add("--socket=" + socket);
            uri = "nbd+unix:///" + export + "?socket=" + socket;
        }
        else
        {
            final int port = freePort();
            command.add("--bind=127.0.0.1");
            command.add("--port=" + port);
            uri = "nbd://127.0.0.1:" + port + "/" + export;
        }
        command.addAll(List.of(extra));
        final String raw = "discard=unmap,cache.direct=" + (direct ? "on" : "off");
        final String file = "driver=file,filename=" + image + ",locking=off";
        command.add("--image-opts");
        if (writesPerSecond > 0)
        {
            command.add(command.size() - 1, "--object");
            command.add(command.size() - 1, "throttle-group,id=tg0,x-iops-write=" + writesPerSecond);
            command.add("driver=throttle,throttle-group=tg0,file.driver=raw,file." + raw.replace(",", ",file.") +
                ",file.file." + file.replace(",", ",file.file."));
        }
        else
        {
            command.add("driver=raw," + raw + ",file." + file.replace(",", ",file."));
        }
        return start(command, pid, uri);
    }

    /** nbdkit with the given filters and plugin arguments on a unix socket, e.g. ("memory", "size=64M"). */
    public Server nbdkit(final List<String> filters, final String... pluginArgs) throws IOException, InterruptedException
    {
        return nbdkitAt(dir.resolve("nbdkit-" + servers.size() + ".sock"), filters, pluginArgs);
    }

    /**
     * nbdkit on {@code socket}, e.g. a server restarted on the path its clients reconnect to (a socket
     * left by a killed server is removed first). Options before the plugin name go in {@code pluginArgs} too.
     */
    public Server nbdkitAt(final Path socket, final List<String> filters, final String... pluginArgs)
        throws IOException, InterruptedException
    {
        final String nbdkit = RealPeers.requireExecutable("nbdkit").toString();
        final Path pid = dir.resolve("nbdkit-" + servers.size() + ".pid");
        Files.deleteIfExists(socket);
        final List<String> command = new ArrayList<>(List.of(nbdkit, "-f", "-U", socket.toString(),
            "-P", pid.toString()));
        for (final String filter : filters)
        {
            command.add("--filter=" + filter);
        }
        command.addAll(List.of(pluginArgs));
        return start(command, pid, "nbd+unix:///?socket=" + socket);
    }

    private Server start(final List<String> command, final Path pid, final String uri) throws IOException, InterruptedException
    {
        final Path log = dir.resolve("server-" + servers.size() + ".log");
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        final Server server = new Server(uri, process, log);
        servers.add(server);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Files.exists(pid) || Files.size(pid) == 0)
        {
            if (!process.isAlive() || System.nanoTime() > deadline)
            {
                throw new IOException("server did not start: " + String.join(" ", command) + "\n" + Files.readString(log));
            }
            Thread.sleep(10);
        }
        return server;
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    public void close()
    {
        for (final Server server : servers)
        {
            server.process().destroyForcibly();
        }
        for (final Server server : servers)
        {
            try
            {
                server.process().waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
