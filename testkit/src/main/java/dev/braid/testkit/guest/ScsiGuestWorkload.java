package dev.braid.testkit.guest;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.SplittableRandom;

/**
 * A guest that drives one virtio-scsi request queue through the driver model and checks every
 * answer: READ(10)/(16) and WRITE(10)/(16) to one LUN, with self-describing data (each 8-byte word
 * pair holds the block number and the id of the write).
 *
 * <p>Same discipline as {@link BlkGuestWorkload}: it never overlaps a read with a write, or two
 * writes, on one block, so every read must return the last write that completed to it. It counts
 * what the invariants need: completions for tags it did not post or already saw (strays), CHECK
 * CONDITIONs, ABORTED responses (ABORT TASK took the command), RESET responses (a LUN or nexus
 * reset did), other failures, corrupt reads, wrong residuals or used lengths. ABORTED and RESET are
 * what a guest's SCSI layer may retry (Linux: DID_ABORT ends the command, DID_RESET is retried), not
 * errors of the device; a test that sent no TMF expects neither. A write that did not complete GOOD
 * leaves its blocks undefined (they are not checked again until rewritten).
 *
 * <p>Requests are chains (request header + CDB, data-out) readable then (response + sense, data-in)
 * writable, direct or indirect at random; the sizes match the device's cdb_size and sense_size.
 */
public final class ScsiGuestWorkload extends SlottedGuestWorkload
{
    private static final int BLOCK = BlockLedger.BLOCK;
    private static final int READ_10 = 0x28;
    private static final int WRITE_10 = 0x2A;
    private static final int READ_16 = 0x88;
    private static final int WRITE_16 = 0x8A;
    private static final int STATUS_GOOD = 0;
    private static final int STATUS_CHECK_CONDITION = 2;

    private final DriverQueue queue;
    private final GuestMemory memory;
    private final SplittableRandom random;
    private final long lunField;
    private final int cdbSize;
    private final int reqBytes;
    private final int respBytes;
    private final long firstBlock;
    private final int blockCount;
    private final int maxBlocksPerRequest;
    private final int readPercent;
    private final boolean useIndirect;

    private final BlockLedger ledger;
    private final boolean[] reqWrite;
    private final long[] reqBlock;
    private final int[] reqBlocks;
    private final long[] reqWriteId;
    private final long[] reqTag;
    private final BufferChain chain = new BufferChain(4);

    private long nextWriteId;
    private long nextTag;
    private long checkConditions;
    private long aborted;
    private long resets;
    private long failures;
    private long corrupt;
    private long badLengths;
    private long reads;
    private long writes;

    /**
     * Builds a scsi guest; the range is in LUN blocks, the area holds {@code queue.size() * slotBytes(...)}
     * bytes. Defaults besides {@link SlottedWorkloadBuilder}'s: target 0, LUN 0, the spec's default
     * CDB (32) and sense (96) sizes.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    /** Adds the addressing and the request layout to {@link SlottedWorkloadBuilder}'s settings. */
    public static final class Builder extends SlottedWorkloadBuilder<Builder>
    {
        private int target;
        private int lun;
        private int cdbSize = 32;
        private int senseSize = 96;

        private Builder()
        {
        }

        public Builder lun(final int target, final int lun)
        {
            this.target = target;
            this.lun = lun;
            return this;
        }

        /** The negotiated cdb_size and sense_size (at least 16 and 0). */
        public Builder sizes(final int cdbSize, final int senseSize)
        {
            this.cdbSize = cdbSize;
            this.senseSize = senseSize;
            return this;
        }

        public ScsiGuestWorkload build()
        {
            validate();
            requireCdbSize(cdbSize);
            require(senseSize >= 0, "sense size must be >= 0: " + senseSize);
            return new ScsiGuestWorkload(this);
        }
    }

    private ScsiGuestWorkload(final Builder b)
    {
        super(b, slotBytes(b.cdbSize, b.senseSize, b.maxPerRequest));
        this.queue = b.queue;
        this.memory = b.memory;
        this.random = new SplittableRandom(b.seed);
        this.lunField = ScsiLun.encode(b.target, b.lun);
        this.cdbSize = b.cdbSize;
        this.reqBytes = ScsiDescriptor.cmdReqLength(cdbSize);
        this.respBytes = ScsiDescriptor.cmdRespLength(b.senseSize);
        this.firstBlock = b.first;
        this.blockCount = b.count;
        this.maxBlocksPerRequest = b.maxPerRequest;
        this.readPercent = b.readPercent;
        this.useIndirect = b.indirect;
        this.nextTag = (long)b.queueIndex << 40;
        ledger = new BlockLedger(memory, firstBlock, blockCount);
        final int slots = queue.size();
        reqWrite = new boolean[slots];
        reqBlock = new long[slots];
        reqBlocks = new int[slots];
        reqWriteId = new long[slots];
        reqTag = new long[slots];
    }

    private static int requireCdbSize(final int cdbSize)
    {
        if (cdbSize < 16)
        {
            throw new IllegalArgumentException("cdb size must hold a 16-byte CDB: " + cdbSize);
        }
        return cdbSize;
    }

    /** Guest memory one request slot needs: request, response, data, rounded to 64 bytes. */
    public static int slotBytes(final int cdbSize, final int senseSize, final int maxBlocksPerRequest)
    {
        return (ScsiDescriptor.cmdReqLength(cdbSize) + ScsiDescriptor.cmdRespLength(senseSize) +
            maxBlocksPerRequest * BLOCK + 63) & ~63;
    }

    public String roleName()
    {
        return "braid-guest-scsi-" + queueIndex();
    }

    boolean postOne()
    {
        final int slot = freeSlot();
        final int blocks = 1 + random.nextInt(maxBlocksPerRequest);
        if (slot < 0 || blocks > blockCount)
        {
            return false;
        }
        final boolean write = random.nextInt(100) >= readPercent;
        final boolean sixteen = random.nextBoolean();
        final long block = random.nextInt(blockCount - blocks + 1);
        if (!ledger.claim(block, blocks, write))
        {
            return false;
        }

        final long gpa = slotGpa(slot);
        final long respGpa = gpa + reqBytes;
        final long dataGpa = respGpa + respBytes;
        final int dataBytes = blocks * BLOCK;
        final long tag = ++nextTag;
        final long lba = firstBlock + block;
        memory.setMemory(gpa, reqBytes, (byte)0);
        memory.putLong(gpa + ScsiDescriptor.CMD_LUN_OFFSET, lunField);
        memory.putLong(gpa + ScsiDescriptor.CMD_ID_OFFSET, tag);
        final long cdb = gpa + ScsiDescriptor.CMD_CDB_OFFSET;
        if (sixteen)
        {
            memory.putByte(cdb, (byte)(write ? WRITE_16 : READ_16));
            putBigEndian(cdb + 2, lba, 8);
            putBigEndian(cdb + 10, blocks, 4);
        }
        else
        {
            memory.putByte(cdb, (byte)(write ? WRITE_10 : READ_10));
            putBigEndian(cdb + 2, lba, 4);
            putBigEndian(cdb + 7, blocks, 2);
        }
        // A response the device must overwrite: status and response 0xFF, resid all ones.
        memory.setMemory(respGpa, respBytes, (byte)0xFF);
        long writeId = 0;
        if (write)
        {
            writeId = ++nextWriteId;
            ledger.fill(dataGpa, block, blocks, writeId);
        }
        else
        {
            memory.setMemory(dataGpa, dataBytes, (byte)0xA5);
        }

        chain.clear();
        chain.readable(gpa, reqBytes);
        if (write)
        {
            chain.readable(dataGpa, dataBytes);
            chain.writable(respGpa, respBytes);
        }
        else
        {
            chain.writable(respGpa, respBytes);
            chain.writable(dataGpa, dataBytes);
        }
        final int id = queue.addChain(chain, useIndirect && random.nextBoolean());
        if (id < 0)
        {
            ledger.release(block, blocks, write);
            if (write)
            {
                nextWriteId--;
            }
            return false;
        }
        track(id, slot);
        reqWrite[slot] = write;
        reqBlock[slot] = block;
        reqBlocks[slot] = blocks;
        reqWriteId[slot] = writeId;
        reqTag[slot] = tag;
        return true;
    }

    void onCompleted(final int slot, final int length)
    {
        final boolean write = reqWrite[slot];
        final long block = reqBlock[slot];
        final int blocks = reqBlocks[slot];
        final int dataBytes = blocks * BLOCK;
        final long respGpa = slotGpa(slot) + reqBytes;
        final long dataGpa = respGpa + respBytes;
        final int response = memory.getByte(respGpa + ScsiDescriptor.RESP_RESPONSE_OFFSET) & 0xFF;
        final int status = memory.getByte(respGpa + ScsiDescriptor.RESP_STATUS_OFFSET) & 0xFF;
        final long resid = memory.getInt(respGpa + ScsiDescriptor.RESP_RESID_OFFSET) & 0xFFFF_FFFFL;
        final boolean good = response == VirtioScsi.VIRTIO_SCSI_S_OK && status == STATUS_GOOD;
        if (response == VirtioScsi.VIRTIO_SCSI_S_OK && status == STATUS_CHECK_CONDITION)
        {
            checkConditions++;
        }
        else if (response == VirtioScsi.VIRTIO_SCSI_S_ABORTED)
        {
            aborted++;
        }
        else if (response == VirtioScsi.VIRTIO_SCSI_S_RESET)
        {
            resets++;
        }
        else if (!good)
        {
            failures++;
        }
        if (good && (resid != 0 || length != respBytes + (write ? 0 : dataBytes)))
        {
            badLengths++;
        }

        if (write)
        {
            writes++;
            ledger.completeWrite(block, blocks, reqWriteId[slot], good);
        }
        else
        {
            reads++;
            if (good && !ledger.verify(dataGpa, block, blocks))
            {
                corrupt++;
            }
        }
        ledger.release(block, blocks, write);
    }

    private void putBigEndian(final long gpa, final long value, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            memory.putByte(gpa + i, (byte)(value >>> (8 * (length - 1 - i))));
        }
    }

    /** The tag of some request still outstanding, or -1: for tests that abort a task. */
    public long anyOutstandingTag()
    {
        for (int id = 0; id < idCount(); id++)
        {
            final int slot = outstandingSlot(id);
            if (slot >= 0)
            {
                return reqTag[slot];
            }
        }
        return -1;
    }

    /** Whether the request with {@code tag} is still owed a completion. */
    public boolean isOutstanding(final long tag)
    {
        for (int id = 0; id < idCount(); id++)
        {
            final int slot = outstandingSlot(id);
            if (slot >= 0 && reqTag[slot] == tag)
            {
                return true;
            }
        }
        return false;
    }

    /** The 8-byte LUN field this workload addresses. */
    public long lunField()
    {
        return lunField;
    }

    /** GOOD-response commands whose status was CHECK CONDITION. */
    public long checkConditions()
    {
        return checkConditions;
    }

    /** Commands that completed with response ABORTED (an ABORT TASK took them). */
    public long aborted()
    {
        return aborted;
    }

    /** Commands that completed with response RESET (a LUN or I_T nexus reset took them). */
    public long resets()
    {
        return resets;
    }

    /** Commands with any other non-OK response or SCSI status. */
    public long failures()
    {
        return failures;
    }

    /** Reads whose data was not the last completed write. */
    public long corrupt()
    {
        return corrupt;
    }

    /** GOOD commands with a non-zero residual or a used length other than response + data-in. */
    public long badLengths()
    {
        return badLengths;
    }

    public long reads()
    {
        return reads;
    }

    public long writes()
    {
        return writes;
    }
}
