package dev.braid.examples.faults;

import dev.braid.examples.soak.Failover;
import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.examples.soak.Specs;
import dev.braid.ha.TransitionReason;
import dev.braid.sim.CardFault;
import dev.braid.sim.FaultSchedule;

import dev.braid.testkit.NbdServers;
import dev.braid.testkit.TapNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fault scenarios on real cards and real peers (threaded, wall clock, a few seconds each): the soak
 * rig over native cards with the same invariants (every read checked against the reference model,
 * for net the virtio counters), while a real fault hits one path. Each starts its peers in a
 * {@link RealPeerLab} and removes them after. A scenario whose peer is missing here is PENDING
 * with the name of the peer, never PASS.
 */
public final class RealCardScenarios
{
    private static final long MS = 1_000_000L;
    private static final long IMAGE_BYTES = 16L << 20;

    private RealCardScenarios()
    {
    }

    public static List<String> names()
    {
        return List.of("nbd-server-killed", "nbdkit-error-burst", "nbdkit-stall-timeout", "tap-link-down", "file-hot-add");
    }

    /** The peers a scenario needs (executables, or root). */
    static String[] needs(final String name)
    {
        return switch (name)
        {
            case "nbd-server-killed" -> new String[]{ "qemu-nbd" };
            case "nbdkit-error-burst", "nbdkit-stall-timeout" -> new String[]{ "nbdkit" };
            case "tap-link-down" -> new String[]{ "root", "ip", "bridge", "ss", "python3" };
            case "file-hot-add" -> new String[0];
            default -> throw new IllegalArgumentException("unknown real-card scenario '" + name + "' (valid: " +
                String.join(", ", names()) + ")");
        };
    }

    private static SoakConfig base(final long seed, final long durationNanos)
    {
        final SoakConfig c = new SoakConfig();
        c.threaded = true;
        c.queues = 2;
        c.queueDepth = 16;
        c.sectorsPerQueue = 2048;
        c.durationNanos = durationNanos;
        c.faults = "none";
        c.seed = seed;
        c.health = SoakConfig.nativeHealth();
        c.quiesceNanos = 10_000 * MS;
        return c;
    }

    public static ScenarioResult run(final String name, final long seed)
    {
        final String missing = RealPeerLab.missing(needs(name));
        if (missing != null)
        {
            return new ScenarioResult(name, "PENDING", -1, -1, 0, "!!! REAL PEER MISSING: " + missing);
        }
        try (RealPeerLab lab = RealPeerLab.create())
        {
            return run(name, seed, lab);
        }
        catch (final Exception ex)
        {
            return new ScenarioResult(name, "FAIL", -1, -1, 0, "setup: " + ex);
        }
    }

    private static ScenarioResult run(final String name, final long seed, final RealPeerLab lab) throws Exception
    {
        switch (name)
        {
            case "nbd-server-killed":
            {
                // Two qemu-nbd processes over one image: two paths to one disk. SIGKILL one mid-soak.
                final Path image = lab.image("disk.img", IMAGE_BYTES);
                final NbdServers.Server a = lab.qemuNbd(image);
                final NbdServers.Server b = lab.qemuNbd(image);
                final SoakConfig c = base(seed, 3_000 * MS);
                c.cardSpecs = List.of(a.uri(), b.uri());
                final SoakRig rig = new SoakRig(c);
                rig.at(1_000 * MS, "SIGKILL qemu-nbd of card 0", x -> kill(a));
                final SoakResult r = rig.run();
                final long after = completedAfter(r, 1, 1_000 * MS);
                return ScenarioResult.of(name, r, r.hasFailover(0, null) && after > 0, "card0 " + r.cards.get(0).health() + " " +
                    downAt(r, 0, 1_000 * MS) + ", card1 served " + after + " after the kill; " + r.failoverReasons("no failover"));
            }
            case "nbdkit-error-burst":
            {
                // nbdkit's error filter fails every request on path 0 (EIO) while the trigger file exists.
                final Path image = lab.image("disk.img", IMAGE_BYTES);
                final Path trigger = lab.dir().resolve("inject-errors");
                final NbdServers.Server a = lab.nbdkit(image, List.of("error"), "error=EIO", "error-rate=100%",
                    "error-file=" + trigger);
                final NbdServers.Server b = lab.nbdkit(image, List.of());
                final SoakConfig c = base(seed, 3_000 * MS);
                c.cardSpecs = List.of(a.uri(), b.uri());
                final SoakRig rig = new SoakRig(c);
                rig.at(1_000 * MS, "error burst on", x -> touch(trigger, true));
                rig.at(1_500 * MS, "error burst off", x -> touch(trigger, false));
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.cards.get(0).errors() > 0 && r.guestErrors == 0, "card0 errors " +
                    r.cards.get(0).errors() + ", replayed " + r.replayed + "; " + r.failoverReasons("no failover"));
            }
            case "nbdkit-stall-timeout":
            {
                // nbdkit's delay filter holds every request on path 1 for 3 s: only the timeout finds it.
                final Path image = lab.image("disk.img", IMAGE_BYTES);
                final NbdServers.Server a = lab.nbdkit(image, List.of());
                final NbdServers.Server b = lab.nbdkit(image, List.of("delay"), "delay-read=3", "delay-write=3");
                final SoakConfig c = base(seed, 3_000 * MS);
                c.cardSpecs = List.of(a.uri(), b.uri());
                final SoakRig rig = new SoakRig(c);
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.hasFailover(1, TransitionReason.TIMEOUT), downAt(r, 1, 0) + " (3 s delay from the start); " +
                    r.failoverReasons("no failover"));
            }
            case "tap-link-down":
            {
                final RealPeerLab.Network net = lab.network(2);
                final SoakConfig c = base(seed, 3_000 * MS);
                c.device = "net";
                c.cardSpecs = List.of("tap:" + net.taps().get(0), "tap:" + net.taps().get(1));
                c.guestIp = Specs.ipv4("guest", net.guestIp());
                c.peerIp = Specs.ipv4("peer", net.peerIp());
                c.peerMac = Specs.mac("peer", net.peerMac());
                final SoakRig rig = new SoakRig(c);
                for (final String tap : net.taps())
                {
                    TapNetwork.awaitForwarding(tap);
                }
                final var card0 = rig.kind().faultTargets().get(0);
                rig.schedule(new FaultSchedule().inject(1_000 * MS, card0, CardFault.LINK_DOWN, 0).heal(2_000 * MS, card0));
                final SoakResult r = rig.run();
                final long after = completedAfter(r, 1, 1_000 * MS);
                final long ok = r.extra.getOrDefault("replies_ok", 0L);
                return ScenarioResult.of(name, r, r.hasFailover(0, null) && after > 0 && ok > 0, downAt(r, 0, 1_000 * MS) + ", replies ok " + ok + ", lost on the wire " +
                    r.extra.get("wire_lost_replies") + ", card1 tx after down " + after + "; " + r.failoverReasons("no failover"));
            }
            case "file-hot-add":
            {
                // One file card; a second path to the same file is added mid-run, then the first fail-stops.
                final Path image = lab.image("disk.img", IMAGE_BYTES);
                final SoakConfig c = base(seed, 3_000 * MS);
                c.cardSpecs = List.of("file:" + image);
                final SoakRig rig = new SoakRig(c);
                rig.at(800 * MS, "hot-add file card", SoakRig::hotAddCard);
                final var card0 = rig.kind().faultTargets().get(0);
                rig.schedule(new FaultSchedule().inject(1_800 * MS, card0, CardFault.FAIL_STOP, 0));
                final SoakResult r = rig.run();
                final boolean added = r.cards.size() == 2;
                final long after = added ? completedAfter(r, 1, 1_800 * MS) : 0;
                return ScenarioResult.of(name, r, added && after > 0 && r.hasFailover(0, null), (added ? "card1 served " +
                    r.cards.get(1).completed() + " (" + after + " after card0 failed)" : "no card added") + "; " + r.failoverReasons("no failover"));
            }
            default:
                throw new IllegalArgumentException("unknown real-card scenario '" + name + "'");
        }
    }

    private static void kill(final NbdServers.Server server)
    {
        try
        {
            server.kill();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void touch(final Path file, final boolean exists)
    {
        try
        {
            if (exists)
            {
                Files.writeString(file, "on");
            }
            else
            {
                Files.deleteIfExists(file);
            }
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalStateException("error trigger " + file + ": " + ex.getMessage());
        }
    }

    /** Completions card {@code card} delivered in sampling intervals that start at or after {@code fromNanos}. */
    private static long completedAfter(final SoakResult r, final int card, final long fromNanos)
    {
        long n = 0;
        for (int i = 0; i < r.intervalPerCard.length; i++)
        {
            if ((long)i * r.intervalNanos >= fromNanos)
            {
                n += r.intervalPerCard[i][card];
            }
        }
        return n;
    }

    /** When card {@code card} first went DOWN, and how long after the fault at {@code faultNanos}. */
    private static String downAt(final SoakResult r, final int card, final long faultNanos)
    {
        for (final Failover f : r.failovers)
        {
            if (f.card() == card)
            {
                return "down at " + Specs.nanos(f.downAtNanos()) + " (" + Specs.nanos(f.downAtNanos() - faultNanos) +
                    " after the fault, " + f.reason() + ")";
            }
        }
        return "never down";
    }

}
