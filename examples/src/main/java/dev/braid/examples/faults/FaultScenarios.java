package dev.braid.examples.faults;

import dev.braid.examples.soak.Failover;
import dev.braid.examples.soak.NetKind;
import dev.braid.examples.soak.ScsiKind;
import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.ha.Failback;
import dev.braid.ha.TransitionReason;
import dev.braid.sim.CardFault;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Named, deterministic fault scenarios (virtual time, fixed seed): each scripts its faults or pool
 * operations, runs the soak rig, checks the invariants plus the scenario's own claim, and gives one
 * table row. A scenario that cannot run is reported PENDING, never PASS.
 */
public final class FaultScenarios
{
    private static final long MS = 1_000_000L;

    private FaultScenarios()
    {
    }

    public static List<String> names()
    {
        return List.of("fail-stop-write-burst", "all-but-one-down", "flapping-card", "zombie-completions",
            "hang-timeout", "hot-remove", "hot-add-rebalance", "ap-failback-immediate", "ap-failback-delayed",
            "all-down-then-return", "net-failover-announce", "scsi-lun-reset");
    }

    public static List<ScenarioResult> runAll(final long seed)
    {
        final List<ScenarioResult> rows = new ArrayList<>();
        for (final String name : names())
        {
            rows.add(run(name, seed));
        }
        return rows;
    }

    private static SoakConfig base(final long seed, final int cards)
    {
        final SoakConfig c = new SoakConfig();
        c.threaded = false;
        c.cards = cards;
        c.queues = 2;
        c.queueDepth = 8;
        c.sectorsPerQueue = 1024;
        c.durationNanos = 150 * MS;
        c.faults = "none";
        c.seed = seed;
        c.quiesceNanos = 10_000 * MS;
        return c;
    }

    public static ScenarioResult run(final String name, final long seed)
    {
        switch (name)
        {
            case "fail-stop-write-burst":
            {
                final SoakConfig c = base(seed, 3);
                c.readPercent = 10;
                final SoakRig rig = new SoakRig(c);
                final FaultTarget card = rig.kind().faultTargets().get(0);
                failStopThenRejoin(rig, card);
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.replayed > 0 && r.hasFailover(0, null), "replayed " + r.replayed);
            }
            case "all-but-one-down":
            {
                final SoakConfig c = base(seed, 4);
                final SoakRig rig = new SoakRig(c);
                final List<FaultTarget> t = rig.kind().faultTargets();
                final FaultSchedule s = new FaultSchedule();
                for (int i = 0; i < 3; i++)
                {
                    s.inject(30 * MS, t.get(i), CardFault.FAIL_STOP, 0).rejoin(90 * MS, t.get(i));
                }
                rig.schedule(s);
                final SoakResult r = rig.run();
                final long survivor = r.cards.get(3).completed();
                return ScenarioResult.of(name, r, r.failovers.size() >= 3 && survivor > 0, r.failovers.size() + " failovers");
            }
            case "flapping-card":
            {
                final SoakConfig c = base(seed, 3);
                final SoakRig rig = new SoakRig(c);
                final FaultTarget card = rig.kind().faultTargets().get(1);
                final FaultSchedule s = new FaultSchedule();
                int flaps = 0;
                for (long t = 20 * MS; t < 100 * MS; t += 4 * MS)
                {
                    s.inject(t, card, CardFault.LINK_DOWN, 0).heal(t + 2 * MS, card);
                    flaps++;
                }
                rig.schedule(s);
                final SoakResult r = rig.run();
                final long epochs = r.epochEnd - r.epochStart;
                // Without hysteresis every flap would move the map twice (down and back up).
                return ScenarioResult.of(name, r, epochs <= flaps, flaps + " flaps, " + epochs + " map epochs");
            }
            case "zombie-completions":
            {
                final SoakConfig c = base(seed, 3);
                c.durationNanos = 200 * MS;
                final SoakRig rig = new SoakRig(c);
                final FaultTarget card = rig.kind().faultTargets().get(0);
                rig.schedule(new FaultSchedule().inject(20 * MS, card, CardFault.HANG, 0)
                    .inject(80 * MS, card, CardFault.ZOMBIE, 30 * MS).rejoin(160 * MS, card));
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.staleDropped > 0 && r.duplicated == 0, "stale dropped " + r.staleDropped);
            }
            case "hang-timeout":
            {
                final SoakConfig c = base(seed, 3);
                final SoakRig rig = new SoakRig(c);
                final FaultTarget card = rig.kind().faultTargets().get(1);
                rig.schedule(new FaultSchedule().inject(30 * MS, card, CardFault.HANG, 0).rejoin(100 * MS, card));
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.hasFailover(1, TransitionReason.TIMEOUT), "detected by " + r.failoverReasons("nothing"));
            }
            case "hot-remove":
            {
                final SoakConfig c = base(seed, 3);
                final SoakRig rig = new SoakRig(c);
                rig.at(40 * MS, "hot-remove card 2", x -> x.hotRemove(2));
                final SoakResult r = rig.run();
                final boolean gone = !rig.device().currentMap().usesCard(2);
                return ScenarioResult.of(name, r, gone, gone ? "card 2 drained and out of the map" : "card 2 still mapped");
            }
            case "hot-add-rebalance":
            {
                final SoakConfig c = base(seed, 2);
                c.queues = 4;
                c.selector = "queue-affine";
                final SoakRig rig = new SoakRig(c);
                rig.at(40 * MS, "hot-add", SoakRig::hotAddCard);
                final SoakResult r = rig.run();
                final long served = r.cards.size() > 2 ? r.cards.get(2).completed() : 0;
                return ScenarioResult.of(name, r, served > 0 && rig.device().currentMap().usesCard(2), "new card served " + served);
            }
            case "ap-failback-immediate":
            case "ap-failback-delayed":
            {
                final boolean delayed = name.endsWith("delayed");
                final SoakConfig c = base(seed, 3);
                c.mode = "ap";
                c.durationNanos = 250 * MS;
                c.failback = delayed ? Failback.delayed(100 * MS) : Failback.immediate();
                final SoakRig rig = new SoakRig(c);
                final FaultTarget card = rig.kind().faultTargets().get(0);
                rig.schedule(new FaultSchedule().inject(30 * MS, card, CardFault.FAIL_STOP, 0).rejoin(50 * MS, card));
                final AtomicBoolean backEarly = new AtomicBoolean();
                rig.at(110 * MS, "check failback", x -> backEarly.set(x.device().currentMap().usesCard(0)));
                final SoakResult r = rig.run();
                final boolean backAtEnd = rig.device().currentMap().usesCard(0);
                final boolean ok = backAtEnd && (delayed ? !backEarly.get() : backEarly.get());
                return ScenarioResult.of(name, r, ok, "on card 0 at 110ms: " + backEarly.get() + ", at end: " + backAtEnd);
            }
            case "all-down-then-return":
            {
                final SoakConfig c = base(seed, 3);
                final SoakRig rig = new SoakRig(c);
                final List<FaultTarget> t = rig.kind().faultTargets();
                final FaultSchedule s = new FaultSchedule();
                for (int i = 0; i < 3; i++)
                {
                    s.inject(30 * MS, t.get(i), CardFault.FAIL_STOP, 0);
                }
                s.rejoin(80 * MS, t.get(1));
                s.rejoin(120 * MS, t.get(0)).rejoin(120 * MS, t.get(2));
                rig.schedule(s);
                final SoakResult r = rig.run();
                return ScenarioResult.of(name, r, r.guestErrors == 0, r.guestErrors + " guest errors (deadline 5s, card back at 80ms)");
            }
            case "net-failover-announce":
            {
                // The active card of an active-passive pair dies: the device must announce itself.
                final SoakConfig c = base(seed, 3);
                c.device = "net";
                c.mode = "ap";
                final SoakRig rig = new SoakRig(c);
                final NetKind.Rig net = (NetKind.Rig)rig.kind();
                final FaultTarget card = net.faultTargets().get(0);
                failStopThenRejoin(rig, card);
                final SoakResult r = rig.run();
                final long arps = net.net().announcer().arpsSent();
                final boolean seen = net.peer().announcements() >= 1 && net.peer().lastAnnouncedMac() == NetKind.DEVICE_MAC &&
                    net.peer().lastAnnouncedIp() == NetKind.GUEST_IP;
                final boolean acked = net.guest().announceAcks() >= 1 && !net.net().state().announcePending();
                return ScenarioResult.of(name, r, arps >= 1 && seen && acked && r.hasFailover(0, null),
                    "gratuitous ARPs " + arps + ", peer saw " + net.peer().announcements() + ", guest acks " +
                    net.guest().announceAcks() + ", wire lost " + r.extra.get("wire_lost_replies"));
            }
            case "scsi-lun-reset":
            {
                // A LUN reset while a card fails with requests on it: it must reach every usable card,
                // complete FUNCTION COMPLETE after the tasks it affected, and every request completes once.
                final SoakConfig c = base(seed, 3);
                c.device = "scsi";
                c.latency = "uniform:200us-1ms";
                final SoakRig rig = new SoakRig(c);
                final ScsiKind.Rig scsi = (ScsiKind.Rig)rig.kind();
                final FaultTarget card = scsi.faultTargets().get(0);
                failStopThenRejoin(rig, card);
                rig.at(30 * MS, "LUN reset", x -> scsi.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET));
                final SoakResult r = rig.run();
                // FUNCTION COMPLETE is response 0, the same value as OK.
                final boolean ok = scsi.tmfResponse() == VirtioScsi.VIRTIO_SCSI_S_OK &&
                    scsi.tmfOrderViolations() == 0 && scsi.tmfAffectedSample() > 0 && r.hasFailover(0, null);
                return ScenarioResult.of(name, r, ok, "TMF response " + scsi.tmfResponse() + ", tasks held at the reset " +
                    scsi.tmfAffectedSample() + ", ended RESET " + r.extra.get("reset") +
                    ", ABORTED " + r.extra.get("aborted") + ", completed before the TMF: " +
                    (scsi.tmfOrderViolations() == 0));
            }
            default:
                throw new IllegalArgumentException("unknown scenario '" + name + "' (valid: " + String.join(", ", names()) + ")");
        }
    }

    /** The common failover: {@code card} fail-stops at 30 ms and rejoins at 80 ms. */
    private static void failStopThenRejoin(final SoakRig rig, final FaultTarget card)
    {
        rig.schedule(new FaultSchedule().inject(30 * MS, card, CardFault.FAIL_STOP, 0).rejoin(80 * MS, card));
    }

}
