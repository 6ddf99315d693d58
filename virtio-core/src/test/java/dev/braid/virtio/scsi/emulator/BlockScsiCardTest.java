package dev.braid.virtio.scsi.emulator;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link BlockScsiCard} over a hand-driven block card: which CDBs become which block requests, how
 * block statuses read as SCSI results, a full sink, TMFs that wait for exactly the commands they
 * cover, the fence handed down, and the card identity in link events.
 */
class BlockScsiCardTest
{
    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final HandBlockCard block = new HandBlockCard();
    private final BlockScsiCard card = new BlockScsiCard(block, ScsiDiskEmulator.forBlockMedium(2048, "T", 1));
    private final List<long[]> reports = new ArrayList<>();
    private boolean sinkFull;
    private final CompletionSink sink = (token, status, length) ->
    {
        if (sinkFull)
        {
            return false;
        }
        reports.add(new long[]{token, status, length});
        return true;
    };

    private ScsiIo command(final int opcode, final long lba, final int blocks, final long tag)
    {
        final ScsiIo io = new ScsiIo(4);
        io.dataIn().reset(memory);
        io.dataOut().reset(memory);
        io.cdb()[0] = (byte)opcode;
        ScsiDiskEmulator.putU32(io.cdb(), 2, lba);
        ScsiDiskEmulator.putU16(io.cdb(), 7, blocks);
        if (opcode == ScsiConstants.READ_10)
        {
            io.dataIn().add(0x1000, blocks * 512);
        }
        else if (opcode == ScsiConstants.WRITE_10)
        {
            io.dataOut().add(0x1000, blocks * 512);
        }
        io.set(0, 0, tag, 10);
        return io;
    }

    @Test
    void mediumCommandsBecomeOneBlockRequestAndStatusesTranslate()
    {
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 8, 4, 1), 100, sink));
        assertTrue(card.submit(0, command(ScsiConstants.READ_10, 8, 4, 2), 101, sink));
        assertTrue(card.submit(0, command(ScsiConstants.SYNCHRONIZE_CACHE_10, 0, 0, 3), 102, sink));
        assertEquals(3, block.submitted.size());
        assertEquals(BlockIo.WRITE, block.submitted.get(0).operation());
        assertEquals(8, block.submitted.get(0).sector());
        assertEquals(4, block.submitted.get(0).sectorCount());
        assertEquals(0x1000, block.submitted.get(0).data().address(0), "the guest's own segment, no copy");
        assertEquals(BlockIo.READ, block.submitted.get(1).operation());
        assertEquals(BlockIo.FLUSH, block.submitted.get(2).operation());
        assertTrue(reports.isEmpty(), "nothing reported before the block card answers");
        block.complete(0, CardStatus.OK, 2048);
        block.complete(1, CardStatus.IO_ERROR, 0);
        block.complete(2, CardStatus.CANCELLED, 0);
        assertEquals(3, reports.size());
        assertEquals(ScsiIo.packResult(0, VirtioScsiResponse.OK, 0), reports.get(0)[1]);
        assertEquals(2048, reports.get(0)[2]);
        assertEquals(VirtioScsiResponse.TRANSPORT_FAILURE, ScsiIo.response((int)reports.get(1)[1]), "a path failure");
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response((int)reports.get(2)[1]), "a fence's cancel");
        assertEquals(0, card.onMedium());
    }

    @Test
    void answeredCommandsWaitForPollAndNeverReachTheBlockCard()
    {
        final ScsiIo bad = command(ScsiConstants.READ_10, 2047, 2, 1);
        assertTrue(card.submit(0, bad, 7, sink));
        assertTrue(block.submitted.isEmpty());
        assertTrue(reports.isEmpty(), "reported at poll, not inside submit");
        assertEquals(1, card.poll(0));
        assertEquals(ScsiConstants.STATUS_CHECK_CONDITION, ScsiIo.scsiStatus((int)reports.get(0)[1]));
        assertEquals(ScsiConstants.ASC_LBA_OUT_OF_RANGE, ScsiSense.asc(bad.sense()));
    }

    @Test
    void aPathsLargestRequestBoundsTheLunsTransfers()
    {
        final BlockScsiCard limited = new BlockScsiCard(block, ScsiDiskEmulator.forBlockMedium(2048, "T", 1, 65536));
        final ScsiIo limits = new ScsiIo(4);
        limits.dataIn().reset(memory);
        limits.dataOut().reset(memory);
        final byte[] cdb = limits.cdb();
        cdb[0] = 0x12;
        cdb[1] = 1;
        cdb[2] = (byte)0xB0;
        cdb[4] = 64;
        limits.dataIn().add(0x8000, 64);
        limits.set(0, 0, 9, 6);
        assertTrue(limited.submit(0, limits, 1, sink));
        limited.poll(0);
        final byte[] page = new byte[64];
        memory.getBytes(0x8000, page, 0, 64);
        assertEquals(128, ScsiDiskEmulator.u32(page, 8), "Block Limits: maximum transfer length, blocks");

        assertTrue(limited.submit(0, command(ScsiConstants.READ_10, 0, 128, 2), 2, sink));
        assertEquals(1, block.submitted.size(), "128 blocks (64 KiB) reach the block card");
        final ScsiIo tooLarge = command(ScsiConstants.READ_10, 0, 129, 3);
        assertTrue(limited.submit(0, tooLarge, 3, sink));
        assertEquals(1, block.submitted.size(), "129 blocks do not");
        limited.poll(0);
        assertEquals(ScsiConstants.STATUS_CHECK_CONDITION, ScsiIo.scsiStatus((int)reports.get(reports.size() - 1)[1]));
        assertEquals(ScsiConstants.ASC_INVALID_FIELD_IN_CDB, ScsiSense.asc(tooLarge.sense()));
        assertThrows(IllegalArgumentException.class, () -> ScsiDiskEmulator.forBlockMedium(2048, "T", 1, 2048));
    }

    @Test
    void waitsInTheBlockCardOnlyWithNoAnswerOfItsOwnToReport()
    {
        block.canWait = true;
        assertTrue(card.canWait(0), "the block card's wait is the HBA's");
        assertTrue(card.submit(0, command(ScsiConstants.READ_10, 2047, 2, 1), 7, sink)); // answered by the emulator
        assertFalse(card.canWait(0), "an answer waits for poll: no sleep");
        assertEquals(1, card.pollOrWait(0, 40_000L));
        assertEquals(40_000L, block.waitedNanos, "the wait goes down to the block card");
        assertEquals(1, reports.size(), "and the answer is reported");
        assertTrue(card.canWait(0));
        block.canWait = false;
        assertFalse(card.canWait(0));
    }

    @Test
    void aFullSinkMakesTheBlockCardKeepItsCompletion()
    {
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 0, 1, 1), 5, sink));
        sinkFull = true;
        assertFalse(block.complete(0, CardStatus.OK, 512), "refused: the block card keeps it");
        assertEquals(1, card.onMedium(), "the slot stays busy");
        sinkFull = false;
        assertTrue(block.complete(0, CardStatus.OK, 512));
        assertEquals(1, reports.size());
        assertEquals(0, card.onMedium());
    }

    @Test
    void tmfsWaitForTheCommandsTheyCoverAndNoOthers()
    {
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 0, 1, 11), 1, sink));
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 1, 1, 12), 2, sink));
        // ABORT TASK of tag 99 covers neither: answered at the next poll.
        assertTrue(card.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 0, 0, 99, 50, sink));
        card.poll(0);
        assertEquals(50, reports.get(0)[0]);
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, reports.get(0)[1]);
        // ABORT TASK of tag 12 waits for command 2 only.
        assertTrue(card.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 0, 0, 12, 51, sink));
        card.poll(0);
        assertEquals(1, reports.size());
        block.complete(0, CardStatus.OK, 512);
        card.poll(0);
        assertEquals(2, reports.size(), "command 1 done, the abort still waits for command 2");
        // A LUN reset behind it; a command submitted after the reset is not waited for.
        assertTrue(card.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 0, 0, 52, sink));
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 2, 1, 13), 3, sink));
        block.complete(1, CardStatus.OK, 512);
        card.poll(0);
        assertEquals(51, reports.get(3)[0], "the abort answered after command 2");
        assertEquals(52, reports.get(4)[0], "the reset too, with command 3 still on the card");
        // The TMFs let the block card finish: the commands they covered answer what it said, never
        // ABORTED or RESET (a command a TMF ended that comes back cut short is the aggregator's to answer).
        assertEquals(ScsiIo.packResult(0, VirtioScsiResponse.OK, 0), reports.get(1)[1]);
        assertEquals(ScsiIo.packResult(0, VirtioScsiResponse.OK, 0), reports.get(2)[1]);
        assertEquals(1, card.onMedium());
        // Wrong LUN, wrong target, unknown function: answered at once.
        assertTrue(card.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 3, 0, 53, sink));
        assertTrue(card.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 2, 0, 0, 54, sink));
        assertTrue(card.taskManagement(0, 9, 0, 0, 0, 55, sink));
        card.poll(0);
        assertEquals(VirtioScsiResponse.INCORRECT_LUN, reports.get(5)[1]);
        assertEquals(VirtioScsiResponse.BAD_TARGET, reports.get(6)[1]);
        assertEquals(VirtioScsiResponse.FUNCTION_REJECTED, reports.get(7)[1]);
    }

    @Test
    void theFenceIsTheBlockCardsAndLinkEventsNameTheScsiCard()
    {
        final List<Card> seen = new ArrayList<>();
        card.setEventListener(new CardEventListener()
        {
            public void onLinkChange(final Card c, final boolean up)
            {
                seen.add(c);
            }

            public void onCardError(final Card c, final int code)
            {
                seen.add(c);
            }
        });
        block.listener.onLinkChange(block, false);
        assertSame(card, seen.get(0), "the aggregator knows the SCSI card, not the block card under it");
        assertTrue(card.submit(0, command(ScsiConstants.INQUIRY, 0, 0, 1), 1, sink));
        card.fence();
        assertEquals(1, block.fences);
        assertFalse(card.submit(0, command(ScsiConstants.WRITE_10, 0, 1, 2), 2, sink), "fenced: refused");
        assertTrue(block.submitted.isEmpty());
        card.poll(0);
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response((int)reports.get(0)[1]),
            "an answer still held at the fence is reported as the fence's cancel");
        card.unfence();
        assertEquals(1, block.unfences);
        assertTrue(card.submit(0, command(ScsiConstants.WRITE_10, 0, 1, 3), 3, sink));
        assertEquals(1, block.submitted.size());
    }

    /** A block card whose completions the test gives by hand, in submission order indices. */
    private static final class HandBlockCard implements BlockCard
    {
        final List<BlockIo> submitted = new ArrayList<>();
        final List<Long> tokens = new ArrayList<>();
        final List<CompletionSink> sinks = new ArrayList<>();
        CardEventListener listener;
        int fences;
        int unfences;
        boolean canWait;
        long waitedNanos = -1;

        public boolean canWait(final int queue)
        {
            return canWait;
        }

        public int pollOrWait(final int queue, final long timeoutNanos)
        {
            waitedNanos = timeoutNanos;
            return 0;
        }

        boolean complete(final int index, final int status, final int length)
        {
            return sinks.get(index).complete(tokens.get(index), status, length);
        }

        public long capacitySectors()
        {
            return 2048;
        }

        public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
        {
            submitted.add(io);
            tokens.add(token);
            sinks.add(sink);
            return true;
        }

        public String name()
        {
            return "hand";
        }

        public int queueCount()
        {
            return 1;
        }

        public int queueDepth()
        {
            return 8;
        }

        public int poll(final int queue)
        {
            return 0;
        }

        public void fence()
        {
            fences++;
        }

        public void unfence()
        {
            unfences++;
        }

        public boolean isLinkUp()
        {
            return true;
        }

        public void setEventListener(final CardEventListener listener)
        {
            this.listener = listener;
        }
    }
}
