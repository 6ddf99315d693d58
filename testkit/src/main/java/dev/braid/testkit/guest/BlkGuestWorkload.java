package dev.braid.testkit.guest;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.virtio.memory.GuestMemory;

import java.util.SplittableRandom;

import static dev.braid.virtio.blk.BlkDescriptor.REQ_HEADER_LENGTH;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_FLUSH;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_IN;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_OUT;

/**
 * A guest that drives one virtio-blk queue through the driver model and checks every answer.
 *
 * <p>It writes sectors with self-describing data (each 8-byte word holds the sector and the id of
 * the write), reads them back and checks each sector holds the last write that completed to it.
 * It never overlaps a read with a write, or two writes, on one sector, so the expected content of
 * every read is exact. It counts what the invariants need: completions for heads it did not post
 * (duplicates or strays), error statuses, corrupt reads, and requests still owed (lost).
 *
 * <p>Requests are (header 16 B, data, status 1 B) chains, direct or indirect at random.
 */
public final class BlkGuestWorkload extends SlottedGuestWorkload
{
    private final DriverQueue queue;
    private final GuestMemory memory;
    private final SplittableRandom random;
    private final long firstSector;
    private final int sectorCount;
    private final int maxSectorsPerRequest;
    private final int readPercent;
    private final boolean useIndirect;

    private final BlockLedger ledger;
    private final int[] reqType;
    private final long[] reqSector;
    private final int[] reqSectors;
    private final long[] reqWriteId;
    private final BufferChain chain = new BufferChain(4);

    private long nextWriteId;
    private long errors;
    private long corrupt;
    private long reads;
    private long writes;

    /** Called when the guest has published new chains and the device wants a kick. */
    @FunctionalInterface
    public interface Kicker
    {
        void kick(int queueIndex);
    }

    /** Builds a blk guest; the range is in sectors, the area holds {@code queue.size() * slotBytes(maxPerRequest)} bytes. */
    public static Builder builder()
    {
        return new Builder();
    }

    /** See {@link SlottedWorkloadBuilder} for the settings and their defaults. */
    public static final class Builder extends SlottedWorkloadBuilder<Builder>
    {
        private Builder()
        {
        }

        public BlkGuestWorkload build()
        {
            validate();
            return new BlkGuestWorkload(this);
        }
    }

    private BlkGuestWorkload(final Builder b)
    {
        super(b, slotBytes(b.maxPerRequest));
        this.queue = b.queue;
        this.memory = b.memory;
        this.random = new SplittableRandom(b.seed);
        this.firstSector = b.first;
        this.sectorCount = b.count;
        this.maxSectorsPerRequest = b.maxPerRequest;
        this.readPercent = b.readPercent;
        this.useIndirect = b.indirect;
        ledger = new BlockLedger(memory, firstSector, sectorCount);
        final int slots = queue.size();
        reqType = new int[slots];
        reqSector = new long[slots];
        reqSectors = new int[slots];
        reqWriteId = new long[slots];
    }

    /** Guest memory one request slot needs: header, data, status, rounded to 64 bytes. */
    public static int slotBytes(final int maxSectorsPerRequest)
    {
        return (REQ_HEADER_LENGTH + maxSectorsPerRequest * 512 + 1 + 63) & ~63;
    }

    public String roleName()
    {
        return "braid-guest-blk-" + queueIndex();
    }

    boolean postOne()
    {
        final int slot = freeSlot();
        if (slot < 0)
        {
            return false;
        }
        final int sectors = 1 + random.nextInt(maxSectorsPerRequest);
        if (sectors > sectorCount)
        {
            return false;
        }
        final int roll = random.nextInt(100);
        final int type = roll < 2 ? VIRTIO_BLK_T_FLUSH : roll < 2 + readPercent ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
        final long sector = random.nextInt(sectorCount - sectors + 1);
        if (type != VIRTIO_BLK_T_FLUSH && !ledger.claim(sector, sectors, type == VIRTIO_BLK_T_OUT))
        {
            return false;
        }

        final long gpa = slotGpa(slot);
        memory.putInt(gpa, type);
        memory.putInt(gpa + 4, 0);
        memory.putLong(gpa + 8, firstSector + sector);
        final long dataGpa = gpa + REQ_HEADER_LENGTH;
        final int dataBytes = type == VIRTIO_BLK_T_FLUSH ? 0 : sectors * 512;
        final long statusGpa = dataGpa + dataBytes;
        memory.putByte(statusGpa, (byte)0xFF);
        long writeId = 0;
        if (type == VIRTIO_BLK_T_OUT)
        {
            writeId = ++nextWriteId;
            ledger.fill(dataGpa, sector, sectors, writeId);
        }
        else if (type == VIRTIO_BLK_T_IN)
        {
            memory.setMemory(dataGpa, dataBytes, (byte)0xA5);
        }

        chain.clear();
        chain.readable(gpa, REQ_HEADER_LENGTH);
        if (type == VIRTIO_BLK_T_OUT)
        {
            chain.readable(dataGpa, dataBytes);
        }
        else if (type == VIRTIO_BLK_T_IN)
        {
            chain.writable(dataGpa, dataBytes);
        }
        chain.writable(statusGpa, 1);
        final int id = queue.addChain(chain, useIndirect && random.nextBoolean());
        if (id < 0)
        {
            if (type != VIRTIO_BLK_T_FLUSH)
            {
                ledger.release(sector, sectors, type == VIRTIO_BLK_T_OUT);
            }
            if (type == VIRTIO_BLK_T_OUT)
            {
                nextWriteId--;
            }
            return false;
        }
        track(id, slot);
        reqType[slot] = type;
        reqSector[slot] = sector;
        reqSectors[slot] = sectors;
        reqWriteId[slot] = writeId;
        return true;
    }

    void onCompleted(final int slot, final int length)
    {
        final int type = reqType[slot];
        final long sector = reqSector[slot];
        final int sectors = reqSectors[slot];
        final int dataBytes = type == VIRTIO_BLK_T_FLUSH ? 0 : sectors * 512;
        final long statusGpa = slotGpa(slot) + REQ_HEADER_LENGTH + dataBytes;
        final int status = memory.getByte(statusGpa) & 0xFF;
        if (status != 0)
        {
            errors++;
        }
        if (type == VIRTIO_BLK_T_OUT)
        {
            writes++;
            // A failed write leaves the sectors undefined; the ledger forgets what they held.
            ledger.completeWrite(sector, sectors, reqWriteId[slot], status == 0);
            ledger.release(sector, sectors, true);
        }
        else if (type == VIRTIO_BLK_T_IN)
        {
            reads++;
            if (status == 0)
            {
                if (length != dataBytes + 1)
                {
                    corrupt++;
                }
                if (!ledger.verify(slotGpa(slot) + REQ_HEADER_LENGTH, sector, sectors))
                {
                    corrupt++;
                }
            }
            ledger.release(sector, sectors, false);
        }
    }

    /** Requests that completed with a status other than OK. */
    public long errors()
    {
        return errors;
    }

    /** Reads whose data was not the last completed write. */
    public long corrupt()
    {
        return corrupt;
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
