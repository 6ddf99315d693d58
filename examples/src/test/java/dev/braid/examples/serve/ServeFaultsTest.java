package dev.braid.examples.serve;

import dev.braid.examples.soak.UsageException;
import dev.braid.sim.CardFault;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The serve loop's fault player: clock from the first device start, events in order, on the named cards. */
class ServeFaultsTest
{
    private static final long MS = 1_000_000L;

    @Test
    void aScheduleFilePlaysFromTheFirstDeviceStartInOrder(@TempDir final Path dir) throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(2048);
        final List<SimDisk> disks = List.of(SimDisk.builder("sim0", store).build(), SimDisk.builder("sim1", store).build());
        final Path plan = Files.write(dir.resolve("p"), List.of("100 1 fail-stop", "50 0 slow 4", "300 1 rejoin", "300 0 heal"));
        ServeFaults.validate(plan.toString(), 2, 2);
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
            assertThrows(UsageException.class, () -> ServeFaults.validate("demo", 1, 2)).getMessage());
        ServeFaults.validate("none", 0, 2);
    }
}
