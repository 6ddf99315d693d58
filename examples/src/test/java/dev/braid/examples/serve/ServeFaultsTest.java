package dev.braid.examples.serve;

import dev.braid.examples.soak.UsageException;
import dev.braid.sim.CardFault;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.SimDisk;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.sim.scsi.SimHba;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** The serve loop's fault player: clock from the first device start, events in order, on the named cards (disks, NICs, HBAs). */
class ServeFaultsTest
{
    private static final long MS = 1_000_000L;

    @Test
    void aScheduleFilePlaysFromTheFirstDeviceStartInOrder(@TempDir final Path dir) throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(2048);
        final List<SimDisk> disks = List.of(SimDisk.builder("sim0", store).build(), SimDisk.builder("sim1", store).build());
        final Path plan = Files.write(dir.resolve("p"), List.of("100 1 fail-stop", "50 0 slow 4", "300 1 rejoin", "300 0 heal"));
        ServeFaults.validate(plan.toString(), 2, 2, "sim:SIZE");
        final List<String> log = new ArrayList<>();
        final ServeFaults faults = ServeFaults.of(plan.toString(), 1, disks, log::add);
        assertEquals(4, faults.planned());

        faults.poll(false, 1_000 * MS);
        assertEquals(0, faults.applied(), "no device running: the clock has not started");
        faults.poll(true, 2_000 * MS);
        assertEquals(0, faults.applied());
        faults.poll(true, 2_060 * MS);
        assertEquals(CardFault.SLOW, disks.get(0).fault());
        assertEquals(CardFault.HEALTHY, disks.get(1).fault());
        faults.poll(false, 2_150 * MS); // between connections the schedule keeps its clock
        assertEquals(CardFault.FAIL_STOP, disks.get(1).fault());
        assertEquals(2, faults.applied());
        faults.poll(true, 2_300 * MS);
        assertEquals(CardFault.HEALTHY, disks.get(0).fault());
        assertEquals(CardFault.HEALTHY, disks.get(1).fault());
        assertEquals(4, faults.applied());
        assertEquals(List.of(
            "braid serve: --faults " + plan + ": 4 event(s) from now",
            "braid serve: fault t=0.050s sim0 slow 4",
            "braid serve: fault t=0.100s sim1 fail-stop",
            "braid serve: fault t=0.300s sim1 rejoin",
            "braid serve: fault t=0.300s sim0 heal"), log);
    }

    @Test
    void profilesAreDrawnFromTheSeedOverTheHorizon()
    {
        final SharedBlockStore store = new SharedBlockStore(2048);
        final List<SimDisk> disks = List.of(SimDisk.builder("sim0", store).build(), SimDisk.builder("sim1", store).build());
        final ServeFaults a = ServeFaults.of("heavy", 7, disks, line -> { });
        final ServeFaults b = ServeFaults.of("heavy", 7, disks, line -> { });
        assertTrue(a.planned() > 0);
        assertEquals(a.planned(), b.planned(), "same seed, same plan");
        assertEquals(0, ServeFaults.of("none", 7, disks, line -> { }).planned());
        a.poll(true, 0);
        a.poll(true, ServeFaults.PROFILE_HORIZON_NANOS);
        assertEquals(a.planned(), a.applied(), "every event falls inside the horizon");
    }

    @Test
    void faultsNeedSimCardsOnly()
    {
        assertEquals("--faults demo: faults are played on sim cards only (--card sim:SIZE)",
            assertThrows(UsageException.class, () -> ServeFaults.validate("demo", 1, 2, "sim:SIZE")).getMessage());
        assertEquals("--faults light: faults are played on sim cards only (--card sim)",
            assertThrows(UsageException.class, () -> ServeFaults.validate("light", 0, 1, "sim")).getMessage());
        ServeFaults.validate("none", 0, 2, "sim:SIZE");
    }

    /** net and scsi: the schedule lands on sim NICs and sim HBAs, which are fault targets as sim disks are. */
    @Test
    void aScheduleFilePlaysOnSimNicsAndSimHbas(@TempDir final Path dir) throws Exception
    {
        final Path plan = Files.write(dir.resolve("p"), List.of("100 0 link-down", "200 1 fail-stop", "300 0 heal",
            "400 1 rejoin"));
        final L2Segment segment = new L2Segment(new PeerHost(0x525400FE0002L, FrameBuilder.ipv4(10, 99, 0, 2)));
        final List<SimNic> nics = List.of(
            new SimNic("sim0", FrameBuilder.macBytes(0x025400CC0000L), segment, SystemNanoClock.INSTANCE, 1, 64, 256, 20_000),
            new SimNic("sim1", FrameBuilder.macBytes(0x025400CC0001L), segment, SystemNanoClock.INSTANCE, 1, 64, 256, 20_000));
        final SimTarget[] targets = {new SimTarget(new SimLun(new SharedBlockStore(2048), new AtomicLong(), "BRAID0", 1))};
        final List<SimHba> hbas = List.of(new SimHba("sim0", SystemNanoClock.INSTANCE, targets, 1, 8, 20_000),
            new SimHba("sim1", SystemNanoClock.INSTANCE, targets, 1, 8, 20_000));
        for (final List<? extends FaultTarget> cards : List.of(nics, hbas))
        {
            ServeFaults.validate(plan.toString(), 2, 2, "sim");
            final List<String> log = new ArrayList<>();
            final ServeFaults faults = ServeFaults.of(plan.toString(), 1, cards, log::add);
            faults.poll(true, 0);
            faults.poll(true, 150 * MS);
            assertEquals(CardFault.LINK_DOWN, cards.get(0).fault(), cards.get(0).getClass().getSimpleName());
            faults.poll(true, 250 * MS);
            assertEquals(CardFault.FAIL_STOP, cards.get(1).fault());
            faults.poll(true, 400 * MS);
            assertEquals(CardFault.HEALTHY, cards.get(0).fault());
            assertEquals(CardFault.HEALTHY, cards.get(1).fault());
            assertEquals(4, faults.applied());
            assertEquals("braid serve: fault t=0.100s sim0 link-down", log.get(1));
            assertEquals("braid serve: fault t=0.200s sim1 fail-stop", log.get(2));
        }
    }
}
