package dev.braid.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small real network its owner (a TAP card test, the examples' real-peer lab) builds and removes:
 * persistent multi-queue TAPs and one end of a veth pair in a Linux bridge, the veth's other end in
 * a fresh network namespace with a real Linux stack at {@code 10.X.N.2/24}. Every name and the
 * subnet derive from the JVM's pid and the owner's label, so parallel runs and owners do not meet;
 * {@link #close()} (or the JVM's shutdown) removes everything, and is safe after a half-built setup.
 */
public final class TapNetwork implements AutoCloseable
{
    private final String id;
    private final String bridge;
    private final String hostVeth;
    private final String peerVeth;
    private final String namespace;
    private final String[] taps;
    private final int network;
    private final int subnet;
    private final List<Process> processes = new ArrayList<>();
    private long namespaceMac;
    private Thread shutdownHook;

    /** Skips loudly (fails under CI=true) without root, ip or /dev/net/tun. */
    public static void requirePeers()
    {
        RealPeers.requireRoot();
        RealPeers.requireExecutable("ip");
        RealPeers.requireFile("/dev/net/tun");
    }

    /** The TAP card tests' network: {@code btbrID}, TAPs {@code btt{a,b,..}ID}, namespace {@code braid-tap-ID}, 10.231.N.0/24. */
    public static TapNetwork create(final int tapCount) throws IOException
    {
        return create(tapCount, "tap", 231);
    }

    /**
     * A network whose names start with {@code b} and the first letter of {@code label} (bridge
     * {@code b?brID}, TAPs {@code b?t{a,b,..}ID}, veth {@code b?vhID}/{@code b?vpID}), namespace
     * {@code braid-LABEL-ID}, in 10.{@code network}.N.0/24.
     */
    public static TapNetwork create(final int tapCount, final String label, final int network) throws IOException
    {
        final TapNetwork tapNetwork = new TapNetwork(tapCount, label, network);
        // A JVM stopped mid-test (a timeout's SIGTERM) still removes what it created.
        tapNetwork.shutdownHook = new Thread(tapNetwork::cleanUp, "tap-network-cleanup");
        Runtime.getRuntime().addShutdownHook(tapNetwork.shutdownHook);
        try
        {
            tapNetwork.build();
            return tapNetwork;
        }
        catch (final IOException | RuntimeException ex)
        {
            tapNetwork.close();
            throw ex;
        }
    }

    private TapNetwork(final int tapCount, final String label, final int network)
    {
        final long pid = ProcessHandle.current().pid();
        final String tag = "b" + label.charAt(0);
        id = Long.toString(pid % 100_000, 36);
        bridge = tag + "br" + id;
        hostVeth = tag + "vh" + id;
        peerVeth = tag + "vp" + id;
        namespace = "braid-" + label + "-" + id;
        taps = new String[tapCount];
        for (int i = 0; i < tapCount; i++)
        {
            taps[i] = tag + "t" + (char)('a' + i) + id;
        }
        this.network = network;
        subnet = 20 + (int)(pid % 200);
    }

    private void build() throws IOException
    {
        ip("link", "add", bridge, "type", "bridge", "mcast_snooping", "0");
        disableIpv6(bridge);
        // No IGMP reports from the bridge itself (snooping joins 224.0.0.106): the guest model calls
        // every IPv4 frame that is not its peer's reply corrupt.
        ip("link", "set", bridge, "multicast", "off");
        ip("link", "set", bridge, "up");
        for (final String tap : taps)
        {
            ip("tuntap", "add", "dev", tap, "mode", "tap", "multi_queue", "vnet_hdr");
            disableIpv6(tap);
            ip("link", "set", tap, "master", bridge, "up");
        }
        ip("netns", "add", namespace);
        ip("link", "add", hostVeth, "type", "veth", "peer", "name", peerVeth);
        disableIpv6(hostVeth);
        ip("link", "set", peerVeth, "netns", namespace);
        ip("link", "set", hostVeth, "master", bridge, "up");
        inNamespace("sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6");
        inNamespace("ip", "addr", "add", ipString(namespaceIp()) + "/24", "dev", peerVeth);
        inNamespace("ip", "link", "set", peerVeth, "multicast", "off");
        inNamespace("ip", "link", "set", peerVeth, "up");
        inNamespace("ip", "link", "set", "lo", "up");
        final String mac = run(List.of("ip", "netns", "exec", namespace, "cat", "/sys/class/net/" + peerVeth + "/address")).trim();
        namespaceMac = Long.parseLong(mac.replace(":", ""), 16);
        awaitForwarding(hostVeth);
        // Pinned, so the bridge never floods a frame for the namespace to the other TAPs (a guest would
        // then see its own frames come back in on its other cards).
        run(List.of("bridge", "fdb", "replace", mac.trim(), "dev", hostVeth, "master", "static"));
    }

    /**
     * Waits until the bridge forwards on {@code ifname}'s port: a port goes forwarding only once the
     * kernel's deferred link watch saw its carrier (a TAP has one only with a queue attached).
     */
    public static void awaitForwarding(final String ifname) throws IOException
    {
        final Path state = Path.of("/sys/class/net", ifname, "brport", "state");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline)
        {
            if (Files.exists(state) && Files.readString(state).trim().equals("3"))
            {
                return;
            }
            try
            {
                Thread.sleep(10);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + ifname);
            }
        }
        throw new IOException("bridge port " + ifname + " is not forwarding after 10 s");
    }

    public String tap(final int index)
    {
        return taps[index];
    }

    public List<String> taps()
    {
        return List.of(taps);
    }

    public String bridge()
    {
        return bridge;
    }

    public String namespace()
    {
        return namespace;
    }

    /** 10.X.N.2: the namespace's address. */
    public int namespaceIp()
    {
        return (10 << 24) | (network << 16) | (subnet << 8) | 2;
    }

    /** 10.X.N.10: the address the owner's guest uses. */
    public int guestIp()
    {
        return (10 << 24) | (network << 16) | (subnet << 8) | 10;
    }

    public long namespaceMac()
    {
        return namespaceMac;
    }

    /** Lets the namespace reach the guest without ARP (the guest models answer none). */
    public void staticNeighbour(final int ip, final long mac) throws IOException
    {
        inNamespace("ip", "neigh", "replace", ipString(ip), "lladdr", macString(mac), "dev", peerVeth, "nud", "permanent");
    }

    public void ip(final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(args));
        run(command);
    }

    public void inNamespace(final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(List.of(args));
        run(command);
    }

    /** Sends one ping of {@code size} bytes from the namespace; none is expected back. */
    public void pingFromNamespace(final int ip, final int size) throws IOException
    {
        startInNamespace("ping", "-c", "1", "-s", Integer.toString(size), ipString(ip));
    }

    /** Starts a long-running command in the namespace; {@link #close()} kills it. */
    public Process startInNamespace(final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(process);
        return process;
    }

    public void close()
    {
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException shuttingDown)
        {
        }
        cleanUp();
    }

    private void cleanUp()
    {
        for (final Process process : processes)
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        quietly("ip", "link", "del", hostVeth);
        for (final String tap : taps)
        {
            quietly("ip", "link", "del", tap);
        }
        quietly("ip", "link", "del", bridge);
        quietly("ip", "netns", "del", namespace);
    }

    public static String ipString(final int ip)
    {
        return (ip >>> 24) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff);
    }

    public static String macString(final long mac)
    {
        final StringBuilder text = new StringBuilder();
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            text.append(String.format("%02x", (mac >>> shift) & 0xff)).append(shift > 0 ? ":" : "");
        }
        return text.toString();
    }

    private static void disableIpv6(final String ifname)
    {
        // Keeps router solicitations and MLD reports off the test's wire; absent IPv6 is fine.
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
        }
    }

    private static void quietly(final String... command)
    {
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (final IOException ex)
        {
            System.err.println("cleanup " + String.join(" ", command) + ": " + ex.getMessage());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code command}; its output, or an IOException naming it when it fails or takes over 30 s. */
    public static String run(final List<String> command) throws IOException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output;
        try
        {
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + ": interrupted");
        }
        if (process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + ": exit " + process.exitValue() + ": " + output.trim());
        }
        return output;
    }
}
