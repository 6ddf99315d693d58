package dev.braid.aggregator.scsi;

import dev.braid.aggregator.QueueStats;
import dev.braid.sim.CardFault;
import dev.braid.testkit.DefaultSeed;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.VirtioScsi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.*;

@DefaultSeed(42)
@ExtendWith(SeedExtension.class)
class ScsiAggregationTest
{
    private static final long REQUESTS = Math.max(500, Seed.configuredSeeds() * 2L);
    private static long SEED;

    @BeforeAll
    static void pickSeed(final Seed seed)
    {
        SEED = seed.value();
    }

    @Test
    void activeActiveTwoCardsWithoutFaults()
    {
        final ScsiRig rig = new ScsiRig(SEED, 2, false, 30_000, REQUESTS);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(false);
        assertTrue(rig.hbas[0].commands() > 0 && rig.hbas[1].commands() > 0, "both cards served");
    }

    @Test
    void activePassiveUsesOneCardWithoutFaults()
    {
        final ScsiRig rig = new ScsiRig(SEED + 1, 3, true, 30_000, REQUESTS);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(false);
        assertTrue(rig.hbas[0].commands() > 0);
        assertEquals(0, rig.hbas[1].commands() + rig.hbas[2].commands(), "standbys idle");
    }

    @Test
    void failStopDuringIoIsInvisibleActiveActive()
    {
        failStop(SEED + 2, 4, false);
    }

    @Test
    void failStopDuringIoIsInvisibleActivePassive()
    {
        failStop(SEED + 3, 2, true);
    }

    private static void failStop(final long seed, final int cards, final boolean activePassive)
    {
        final ScsiRig rig = new ScsiRig(seed, cards, activePassive, 30_000, REQUESTS);
        assertTrue(rig.runUntil(() -> rig.guest.completed() > REQUESTS / 4 && rig.hbas[0].pendingCount() > 0, 10_000_000_000L));
        assertTrue(rig.hbas[0].pendingCount() > 0, "the card holds commands when it fails");
        rig.hbas[0].failStop();
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(false);
        assertTrue(rig.device.frontQueue(0).stats().get(QueueStats.REPLAYED) > 0, "commands were replayed");
        for (int i = 1; i < cards; i++)
        {
            if (rig.hbas[i].commands() > 0)
            {
                return;
            }
        }
        fail("no other card took over");
    }

    @Test
    void errorBurstIsReplayedOnAnotherPath()
    {
        // SimHba fails each command of the burst with TRANSPORT_FAILURE: a path error, replayed, never shown.
        final ScsiRig rig = new ScsiRig(SEED + 8, 2, false, 30_000, REQUESTS);
        assertTrue(rig.runUntil(() -> rig.guest.completed() > REQUESTS / 4, 10_000_000_000L));
        rig.hbas[0].hba.inject(CardFault.ERROR_BURST, 20);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(false);
        assertTrue(rig.hbas[0].hba.pathFailures() > 0, "the burst hit commands");
        assertTrue(rig.device.frontQueue(0).stats().get(QueueStats.REPLAYED) > 0, "they were replayed");
    }

    @Test
    void linkDownThenUpIsInvisible()
    {
        final ScsiRig rig = new ScsiRig(SEED + 9, 2, false, 30_000, REQUESTS);
        assertTrue(rig.runUntil(() -> rig.guest.completed() > REQUESTS / 4 && rig.hbas[1].pendingCount() > 0,
            10_000_000_000L));
        rig.hbas[1].hba.inject(CardFault.LINK_DOWN, 0);
        assertTrue(rig.runUntil(() -> rig.guest.completed() > REQUESTS / 2, 10_000_000_000L));
        rig.hbas[1].hba.heal();
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(false);
        assertTrue(rig.hbas[0].commands() > 0 && rig.hbas[1].commands() > 0);
    }

    @Test
    void abortTaskReachesTheCardThatHoldsTheTask()
    {
        // Slow cards, so that tasks sit on them long enough to be aborted.
        final ScsiRig rig = new ScsiRig(SEED + 4, 3, false, 3_000_000, REQUESTS / 4);
        assertTrue(rig.runUntil(() -> rig.guest.completed() > 20, 10_000_000_000L));
        int holder = -1;
        long tag = -1;
        for (int attempt = 0; attempt < 1000 && holder < 0; attempt++)
        {
            rig.scheduler.step();
            final long candidate = rig.guest.anyOutstandingTag();
            for (int i = 0; i < rig.hbas.length && candidate >= 0; i++)
            {
                if (rig.hbas[i].holds(candidate))
                {
                    holder = i;
                    tag = candidate;
                }
            }
        }
        assertTrue(holder >= 0, "found a task on a card");
        final long abortedBefore = rig.guest.aborted();
        rig.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK, tag);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 1_000_000_000L), "TMF completed");
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, rig.tmfResponse(), "FUNCTION COMPLETE");
        assertEquals(1, rig.affectedCount());
        for (int i = 0; i < rig.hbas.length; i++)
        {
            assertEquals(i == holder ? 1 : 0, rig.hbas[i].tmfLog.size(), "ABORT TASK reached only the holder, card " + i);
        }
        assertEquals(ScsiCard.TMF_ABORT_TASK + ":" + tag, rig.hbas[holder].tmfLog.get(0));
        assertFalse(rig.guest.isOutstanding(tag));
        assertEquals(abortedBefore + 1, rig.guest.aborted(), "the task completed ABORTED");
        assertEquals(0, rig.guest.resets(), "ABORT TASK answers ABORTED, not RESET");
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(true);
    }

    @Test
    void abortOfAnUnknownTagCompletesAtOnce()
    {
        final ScsiRig rig = new ScsiRig(SEED + 5, 2, false, 30_000, 200);
        rig.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK, 0x1234_5678L);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 1_000_000_000L));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, rig.tmfResponse());
        assertEquals(0, rig.hbas[0].tmfLog.size() + rig.hbas[1].tmfLog.size(), "no card asked");
        assertTrue(rig.run(60_000_000_000L));
        rig.assertInvariants(false);
    }

    /**
     * The commands a LUN reset ends answer RESET, never ABORTED: virtio-scsi gives ABORTED to ABORT
     * TASK (SET) and RESET to "a bus or device reset (including a task management function)", and
     * Linux's virtio_scsi turns ABORTED into DID_ABORT (an I/O error) but RESET into DID_RESET (retried).
     * Here both the HBAs that end their own tasks and the device (tasks on the failing card, cut short
     * by its fence) answer.
     */
    @Test
    void lunResetDuringFailoverCompletesAndEveryRequestCompletesOnce()
    {
        final ScsiRig rig = new ScsiRig(SEED + 6, 3, false, 600_000, REQUESTS / 2);
        lunResetDuringFailover(rig);
        assertTrue(rig.hbas[2].tmfLog.contains(ScsiCard.TMF_LOGICAL_UNIT_RESET + ":0"));
    }

    /**
     * The same over SCSI cards made of block cards, which cannot recall a command: the tasks a LUN
     * reset ends are the device's own (held by the failing path until its fence cancels them), and
     * they too answer RESET, not ABORTED, nor are they started again on another path.
     */
    @Test
    void lunResetDuringFailoverOverBlockCardsEndsTheDevicesTasksWithReset()
    {
        final ScsiRig rig = new ScsiRig(SEED + 10, 3, false, 600_000, REQUESTS / 2, ScsiRig.Paths.BLOCK_CARD);
        lunResetDuringFailover(rig);
    }

    /** Card 0 fail-stops with tasks on it, the guest resets the LUN; the tasks the reset ended answer RESET. */
    private static void lunResetDuringFailover(final ScsiRig rig)
    {
        assertTrue(rig.runUntil(() -> rig.guest.completed() > 100 && rig.hbas[0].pendingCount() > 0, 10_000_000_000L));
        rig.hbas[0].failStop();
        rig.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 5_000_000_000L), "TMF completed");
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, rig.tmfResponse(), "FUNCTION COMPLETE from every usable card");
        assertTrue(rig.affectedCount() > 0);
        assertTrue(rig.hbas[1].tmfLog.contains(ScsiCard.TMF_LOGICAL_UNIT_RESET + ":0"));
        assertTrue(rig.guest.resets() > 0, "the reset ended tasks with RESET (RESET " + rig.guest.resets() +
            ", ABORTED " + rig.guest.aborted() + ")");
        assertEquals(0, rig.guest.aborted(), "no task the reset ended answered ABORTED");
        final long survivorCommands = rig.hbas[1].commands() + rig.hbas[2].commands();
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants(true);
        assertTrue(rig.hbas[1].commands() + rig.hbas[2].commands() > survivorCommands, "the survivors kept serving");
    }

    @Test
    void controlRequestsWithoutCardsAreAnsweredLocally()
    {
        final ScsiRig rig = new ScsiRig(SEED + 7, 2, false, 30_000, 300);
        rig.sendAnQuery(VirtioScsi.VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 1_000_000_000L));
        assertEquals(ScsiDescriptor.AN_RESP_LENGTH, rig.tmfUsedLength());
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, rig.anResponse());
        assertEquals(0, rig.anEventActual(), "no event class supported");

        rig.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, 0);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 1_000_000_000L));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED, rig.tmfResponse());

        rig.sendTmf(VirtioScsi.VIRTIO_SCSI_T_TMF_QUERY_TASK, 0x7777L);
        assertTrue(rig.runUntil(() -> rig.tmfResponse() >= 0, 1_000_000_000L));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, rig.tmfResponse(), "no such task: FUNCTION COMPLETE");
        assertEquals(0, rig.hbas[0].tmfLog.size() + rig.hbas[1].tmfLog.size(), "no card asked");

        assertTrue(rig.run(60_000_000_000L));
        rig.assertInvariants(false);
        assertEquals(0, rig.control.tmfsCompleted(), "no TMF needed the cards");
    }
}
