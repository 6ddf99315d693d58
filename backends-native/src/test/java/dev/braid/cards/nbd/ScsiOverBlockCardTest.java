package dev.braid.cards.nbd;

import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;
import dev.braid.testkit.NbdServers;
import dev.braid.testkit.RealPeers;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.emulator.BlockScsiCard;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import dev.braid.virtio.scsi.emulator.ScsiSense;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A SCSI LUN on real storage: {@link BlockScsiCard} over a file card (io_uring) and over a qemu-nbd
 * card. CDBs go in, the bytes are checked in the image file itself: WRITE from several guest
 * segments, SYNCHRONIZE CACHE, READ back (also into a short buffer: whole blocks, OVERRUN), UNMAP
 * (a punched hole in the file), bad CDBs answered without a block request, a LUN reset answered
 * once what was on the card has completed, and the fence: the SCSI card's is the block card's.
 */
class ScsiOverBlockCardTest
{
    private static final long IMAGE = 8L << 20;
    private static final long BLOCKS = IMAGE / 512;

    @TempDir
    Path dir;

    private final GuestMemory memory = GuestMemory.builder().addAnonymous(0, 1 << 20).addAnonymous(1 << 20, 1 << 20).build();
    private final int[] status = new int[64];
    private final int[] length = new int[64];
    private final boolean[] done = new boolean[64];
    private final CompletionSink sink = (token, s, len) ->
    {
        status[(int)token] = s;
        length[(int)token] = len;
        done[(int)token] = true;
        return true;
    };

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"file", "qemu-nbd"})
    void cdbsBecomeBlockRequestsOnRealStorage(final String kind) throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("lun.raw", IMAGE);
            final BlockCard block;
            if (kind.equals("file"))
            {
                final String why = FileBlockCard.unavailableReason();
                RealPeers.require(why == null, "io_uring", why);
                block = FileBlockCard.open(new FileCardContext().spec("file:" + image).name("f0").queueDepth(16));
            }
            else
            {
                block = NbdBlockCard.open(new NbdCardContext().uri(servers.qemuNbd(image, "lun", true).uri()).name("n0"));
            }
            try (AutoCloseable closer = (AutoCloseable)block)
            {
                final BlockScsiCard card = new BlockScsiCard(block,
                    ScsiDiskEmulator.forBlockMedium(block.capacitySectors(), "BRAIDLUN1", 0x42));
                exercise(card, image);
            }
        }
    }

    private void exercise(final BlockScsiCard card, final Path image) throws Exception
    {
        // INQUIRY and READ CAPACITY(16): answered by the emulator, the LUN has the image's size.
        final ScsiIo inquiry = io(0, INQUIRY, 0, 0, 0);
        inquiry.cdb()[4] = 36;
        addIn(inquiry, 0x1000, 36);
        run(card, inquiry, 1);
        expectGood(1, 36);
        assertEquals("BLOCK DISK", ascii(0x1000 + 16, 10), "INQUIRY product");
        final ScsiIo capacity = io(0, SERVICE_ACTION_IN_16, 0, 0, 32);
        capacity.cdb()[1] = SA_READ_CAPACITY_16;
        addIn(capacity, 0x2000, 32);
        run(card, capacity, 2);
        expectGood(2, 32);
        assertEquals(BLOCKS - 1, Long.reverseBytes(memory.getLong(0x2000)), "last LBA");

        // WRITE(10) 192 KiB at LBA 100 from three segments (the middle one crossing the region edge).
        final int bytes = 192 << 10;
        final byte[] data = NbdTestRig.pattern(7, bytes);
        final long at = (1 << 20) - (64 << 10);
        memory.putBytes(at, data, 0, bytes);
        final ScsiIo write = io(0, WRITE_10, 100, bytes / 512, 0);
        write.dataOut().add(at, 32 << 10);
        write.dataOut().add(at + (32 << 10), 128 << 10);
        write.dataOut().add(at + (160 << 10), 32 << 10);
        run(card, write, 3);
        expectGood(3, bytes);
        run(card, io(0, SYNCHRONIZE_CACHE_10, 0, 0, 0), 4);
        expectGood(4, 0);
        assertArrayEquals(data, NbdQemuRoundTripTest.fileBytes(image, 100 * 512, bytes), "the write is in the image");

        // READ(16) back into other memory.
        final ScsiIo read = io(0, READ_16, 100, bytes / 512, 0);
        poison(0x100000 + (256 << 10), bytes);
        addIn(read, 0x100000 + (256 << 10), bytes);
        run(card, read, 5);
        expectGood(5, bytes);
        final byte[] back = new byte[bytes];
        memory.getBytes(0x100000 + (256 << 10), back, 0, bytes);
        assertArrayEquals(data, back, "read back");

        // A data-in buffer 1000 bytes long for 4 blocks: one whole block moves, the answer says OVERRUN.
        poison(0x3000, 4096);
        final ScsiIo shortRead = io(0, READ_10, 100, 4, 0);
        addIn(shortRead, 0x3000, 1000);
        final int shortResult = run(card, shortRead, 6);
        assertEquals(VirtioScsiResponse.OVERRUN, ScsiIo.response(shortResult));
        assertEquals(512, length[6], "whole blocks only");
        final byte[] first = new byte[512];
        memory.getBytes(0x3000, first, 0, 512);
        assertArrayEquals(Arrays.copyOf(data, 512), first);
        assertEquals((byte)0x5A, memory.getByte(0x3000 + 512), "nothing past the block moved");

        // UNMAP one descriptor: LBA 110, 20 blocks -> zeroes in the image.
        final ScsiIo unmap = unmap(0x4000, new long[][]{{110, 20}}, 7);
        run(card, unmap, 7);
        expectGood(7, 24);
        final byte[] expected = data.clone();
        Arrays.fill(expected, 10 * 512, 30 * 512, (byte)0);
        assertArrayEquals(expected, NbdQemuRoundTripTest.fileBytes(image, 100 * 512, bytes), "unmapped range reads zero");
        // Two descriptors: the Block Limits page says one, so INVALID FIELD IN PARAMETER LIST, nothing unmapped.
        final ScsiIo twoDescriptors = unmap(0x4000, new long[][]{{100, 1}, {101, 1}}, 8);
        expectCheck(twoDescriptors, run(card, twoDescriptors, 8), KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
        assertArrayEquals(expected, NbdQemuRoundTripTest.fileBytes(image, 100 * 512, bytes), "image untouched");

        // Out of range and FUA (not offered): CHECK CONDITION, no block request.
        final ScsiIo past = io(0, READ_16, BLOCKS - 1, 2, 0);
        addIn(past, 0x3000, 1024);
        expectCheck(past, run(card, past, 9), KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        final ScsiIo fua = io(0, WRITE_10, 0, 1, 0);
        fua.cdb()[1] = 0x08;
        fua.dataOut().add(at, 512);
        expectCheck(fua, run(card, fua, 10), KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        assertEquals(0, card.onMedium());

        // A LUN reset while a write is on the block card: FUNCTION COMPLETE only after the write completed.
        final ScsiIo inFlight = io(0, WRITE_10, 2000, bytes / 512, 0);
        inFlight.dataOut().add(at, bytes);
        assertTrue(card.submit(0, inFlight, 11, sink));
        assertTrue(card.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 0, 0, 12, sink));
        awaitDone(card, 12);
        assertTrue(done[11], "the write completed before the reset's answer");
        expectGood(11, bytes);
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, status[12]);
        assertTrue(card.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 1, 0, 13, sink));
        awaitDone(card, 13);
        assertEquals(VirtioScsiResponse.INCORRECT_LUN, status[13]);
        assertTrue(card.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 1, 0, 5, 14, sink));
        awaitDone(card, 14);
        assertEquals(VirtioScsiResponse.BAD_TARGET, status[14]);

        // Target 1 does not exist.
        assertEquals(VirtioScsiResponse.BAD_TARGET, ScsiIo.response(run(card, io(1, TEST_UNIT_READY, 0, 0, 0), 15)));

        // Fence: the block card's fence; after it nothing is accepted, after unfence it serves again.
        card.fence();
        assertFalse(card.submit(0, io(0, TEST_UNIT_READY, 0, 0, 0), 16, sink), "a fenced card refuses");
        card.unfence();
        // An NBD card's fence closed its connections: until it has reconnected, TEST UNIT READY (the
        // aggregator's probe) reports the path down.
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (!card.isLinkUp() && System.nanoTime() < deadline)
        {
            assertEquals(VirtioScsiResponse.TRANSPORT_FAILURE, ScsiIo.response(run(card, io(0, TEST_UNIT_READY, 0, 0, 0), 16)));
            Thread.sleep(5);
        }
        run(card, io(0, TEST_UNIT_READY, 0, 0, 0), 17);
        expectGood(17, 0);
        run(card, read, 18);
        expectGood(18, bytes);
    }

    private ScsiIo io(final int target, final int opcode, final long lba, final long blocks, final int allocation)
    {
        final ScsiIo io = new ScsiIo(8);
        io.dataIn().reset(memory);
        io.dataOut().reset(memory);
        final byte[] cdb = io.cdb();
        Arrays.fill(cdb, (byte)0);
        cdb[0] = (byte)opcode;
        final int length = cdbLengthOf(opcode);
        if (opcode == READ_10 || opcode == WRITE_10)
        {
            ScsiDiskEmulator.putU32(cdb, 2, lba);
            ScsiDiskEmulator.putU16(cdb, 7, (int)blocks);
        }
        else if (opcode == READ_16 || opcode == WRITE_16)
        {
            ScsiDiskEmulator.putU64(cdb, 2, lba);
            ScsiDiskEmulator.putU32(cdb, 10, blocks);
        }
        else if (opcode == SERVICE_ACTION_IN_16)
        {
            ScsiDiskEmulator.putU32(cdb, 10, allocation);
        }
        io.set(target, 0, 1000 + opcode, length);
        return io;
    }

    private ScsiIo unmap(final long gpa, final long[][] ranges, final int tag)
    {
        final ScsiIo io = io(0, UNMAP, 0, 0, 0);
        final byte[] list = new byte[8 + 16 * ranges.length];
        ScsiDiskEmulator.putU16(list, 0, list.length - 2);
        ScsiDiskEmulator.putU16(list, 2, 16 * ranges.length);
        for (int i = 0; i < ranges.length; i++)
        {
            ScsiDiskEmulator.putU64(list, 8 + 16 * i, ranges[i][0]);
            ScsiDiskEmulator.putU32(list, 16 + 16 * i, ranges[i][1]);
        }
        memory.putBytes(gpa, list, 0, list.length);
        ScsiDiskEmulator.putU16(io.cdb(), 7, list.length);
        io.dataOut().add(gpa, list.length);
        return io;
    }

    private void poison(final long gpa, final int length)
    {
        final byte[] fill = new byte[length];
        Arrays.fill(fill, (byte)0x5A);
        memory.putBytes(gpa, fill, 0, length);
    }

    private void addIn(final ScsiIo io, final long gpa, final int length)
    {
        io.dataIn().add(gpa, length);
    }

    private int run(final BlockScsiCard card, final ScsiIo io, final int token)
    {
        done[token] = false;
        assertTrue(card.submit(0, io, token, sink), "submit refused");
        awaitDone(card, token);
        return status[token];
    }

    private void awaitDone(final BlockScsiCard card, final int token)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done[token])
        {
            if (card.poll(0) == 0)
            {
                Thread.onSpinWait();
            }
            assertTrue(System.nanoTime() < deadline, "token " + token + " never completed");
        }
    }

    private void expectGood(final int token, final int bytes)
    {
        final int result = status[token];
        assertEquals(bytes, length[token], "bytes moved by token " + token);
        assertEquals(STATUS_GOOD, ScsiIo.scsiStatus(result), "status 0x" + Integer.toHexString(result));
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(result), "response 0x" + Integer.toHexString(result));
    }

    private void expectCheck(final ScsiIo io, final int result, final int key, final int asc)
    {
        assertEquals(STATUS_CHECK_CONDITION, ScsiIo.scsiStatus(result), "status 0x" + Integer.toHexString(result));
        assertEquals(ScsiSense.LENGTH, ScsiIo.senseLength(result));
        assertEquals(key, ScsiSense.senseKey(io.sense()), "sense key");
        assertEquals(asc, ScsiSense.asc(io.sense()), "ASC");
    }

    private String ascii(final long gpa, final int length)
    {
        final byte[] b = new byte[length];
        memory.getBytes(gpa, b, 0, length);
        return new String(b, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
