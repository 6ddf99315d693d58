package dev.braid.virtio.blk;

import dev.braid.virtio.device.ChainBytes;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.braid.virtio.blk.BlkDescriptor.DWZ_FLAGS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_NUM_SECTORS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_SECTOR_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_SEGMENT_LENGTH;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_HEADER_LENGTH;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_IOPRIO_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_SECTOR_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_TYPE_OFFSET;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_S_IOERR;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_S_UNSUPP;

/**
 * Validates a popped virtio-blk chain. The header and segments are guest-controlled, so every field
 * is checked and every problem becomes a status, never an exception:
 * <ul>
 *   <li>no writable byte at all: {@link BlkRequest#COMPLETE_NO_STATUS} (used length 0);</li>
 *   <li>header shorter than 16 readable bytes (it may be split across segments), data in the wrong
 *       direction, data not a whole number of sectors, a range past the capacity, too many or bad
 *       discard segments, a write to a read-only disk: IOERR;</li>
 *   <li>a type the device does not implement (or did not negotiate), unknown segment flags: UNSUPP.</li>
 * </ul>
 * The last writable byte is the status byte; the data segments lie between header and status.
 *
 * <p>One parser per queue thread; it owns a 16-byte scratch buffer and allocates nothing.
 */
public final class BlkRequestParser
{
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[REQ_HEADER_LENGTH]);

    private long capacity;
    private boolean readOnly;
    private boolean flush = true;
    private boolean discard;
    private boolean writeZeroes;
    private long maxDiscardSectors;
    private long maxDiscardSeg;
    private long maxWriteZeroesSectors;
    private long maxWriteZeroesSeg;

    /** Takes capacity, limits and supported types from the config space and the negotiated features. */
    public BlkRequestParser configure(final BlkConfig config, final long negotiatedFeatures)
    {
        capacity = config.capacity();
        readOnly = VirtioFeatures.has(negotiatedFeatures, VirtioBlk.VIRTIO_BLK_F_RO);
        flush = VirtioFeatures.has(negotiatedFeatures, VirtioBlk.VIRTIO_BLK_F_FLUSH);
        discard = VirtioFeatures.has(negotiatedFeatures, VirtioBlk.VIRTIO_BLK_F_DISCARD);
        writeZeroes = VirtioFeatures.has(negotiatedFeatures, VirtioBlk.VIRTIO_BLK_F_WRITE_ZEROES);
        maxDiscardSectors = config.maxDiscardSectors();
        maxDiscardSeg = config.maxDiscardSeg();
        maxWriteZeroesSectors = config.maxWriteZeroesSectors();
        maxWriteZeroesSeg = config.maxWriteZeroesSeg();
        return this;
    }

    /** Disk size in 512-byte sectors (unsigned); may change at run time (resize). */
    public BlkRequestParser capacity(final long sectors)
    {
        capacity = sectors;
        return this;
    }

    public long capacity()
    {
        return capacity;
    }

    public BlkRequestParser readOnly(final boolean readOnly)
    {
        this.readOnly = readOnly;
        return this;
    }

    public BlkRequestParser flush(final boolean supported)
    {
        flush = supported;
        return this;
    }

    public BlkRequestParser discard(final boolean supported, final long maxSectors, final long maxSegments)
    {
        discard = supported;
        maxDiscardSectors = maxSectors;
        maxDiscardSeg = maxSegments;
        return this;
    }

    public BlkRequestParser writeZeroes(final boolean supported, final long maxSectors, final long maxSegments)
    {
        writeZeroes = supported;
        maxWriteZeroesSectors = maxSectors;
        maxWriteZeroesSeg = maxSegments;
        return this;
    }

    /**
     * Parses {@code chain} into {@code out}. Returns VIRTIO_BLK_S_OK when the request is to be
     * submitted, otherwise the status to complete with; {@link BlkRequest#outcome()} says how.
     */
    public int parse(final GuestMemory memory, final DescriptorChain chain, final BlkRequest out)
    {
        out.reset(chain.id());
        final long statusGpa = ChainBytes.lastWritableByte(memory, chain);
        if (statusGpa < 0)
        {
            return out.completeNoStatus();
        }
        out.statusGpa(statusGpa);

        if (chain.readableBytes() < REQ_HEADER_LENGTH ||
            !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, REQ_HEADER_LENGTH))
        {
            return out.complete(VIRTIO_BLK_S_IOERR);
        }
        final long type = scratch.getInt(REQ_TYPE_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        final long sector = scratch.getLong(REQ_SECTOR_OFFSET, ByteOrder.LITTLE_ENDIAN);
        out.header(type, scratch.getInt(REQ_IOPRIO_OFFSET, ByteOrder.LITTLE_ENDIAN), sector);

        final long readableData = chain.readableBytes() - REQ_HEADER_LENGTH;
        final long writableData = chain.writableBytes() - BlkDescriptor.STATUS_LENGTH;

        if (type == VirtioBlk.VIRTIO_BLK_T_IN)
        {
            if (readableData != 0 || !isWholeSectors(writableData) || !inCapacity(sector, writableData >>> 9))
            {
                return out.complete(VIRTIO_BLK_S_IOERR);
            }
            return submitWritableData(chain, writableData, out);
        }
        if (type == VirtioBlk.VIRTIO_BLK_T_OUT)
        {
            if (readOnly || writableData != 0 || !isWholeSectors(readableData) ||
                !inCapacity(sector, readableData >>> 9))
            {
                return out.complete(VIRTIO_BLK_S_IOERR);
            }
            return submitReadableData(chain, readableData, out);
        }
        if (type == VirtioBlk.VIRTIO_BLK_T_FLUSH)
        {
            // Linux sends no data with a flush; any that comes is ignored, as the spec has none.
            return flush ? out.submit() : out.complete(VIRTIO_BLK_S_UNSUPP);
        }
        if (type == VirtioBlk.VIRTIO_BLK_T_GET_ID)
        {
            if (readableData != 0 || writableData <= 0)
            {
                return out.complete(VIRTIO_BLK_S_IOERR);
            }
            return submitWritableData(chain, writableData, out);
        }
        if (type == VirtioBlk.VIRTIO_BLK_T_DISCARD)
        {
            return parseSegments(memory, chain, readableData, writableData, discard, maxDiscardSectors,
                maxDiscardSeg, false, out);
        }
        if (type == VirtioBlk.VIRTIO_BLK_T_WRITE_ZEROES)
        {
            return parseSegments(memory, chain, readableData, writableData, writeZeroes, maxWriteZeroesSectors,
                maxWriteZeroesSeg, true, out);
        }
        // GET_LIFETIME, SECURE_ERASE, zoned commands and anything unknown.
        return out.complete(VIRTIO_BLK_S_UNSUPP);
    }

    private int parseSegments(
        final GuestMemory memory,
        final DescriptorChain chain,
        final long readableData,
        final long writableData,
        final boolean supported,
        final long maxSectors,
        final long maxSegments,
        final boolean unmapAllowed,
        final BlkRequest out)
    {
        if (!supported)
        {
            return out.complete(VIRTIO_BLK_S_UNSUPP);
        }
        if (readOnly || writableData != 0 || readableData <= 0 || readableData % DWZ_SEGMENT_LENGTH != 0 ||
            readableData / DWZ_SEGMENT_LENGTH > maxSegments)
        {
            return out.complete(VIRTIO_BLK_S_IOERR);
        }
        final int count = (int)(readableData / DWZ_SEGMENT_LENGTH);
        final int allowedFlags = unmapAllowed ? VirtioBlk.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
        for (int i = 0; i < count; i++)
        {
            final long offset = REQ_HEADER_LENGTH + (long)i * DWZ_SEGMENT_LENGTH;
            if (!ChainBytes.copyReadable(memory, chain, offset, scratch, 0, DWZ_SEGMENT_LENGTH))
            {
                return out.complete(VIRTIO_BLK_S_IOERR);
            }
            final long sector = scratch.getLong(DWZ_SECTOR_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final long sectors = scratch.getInt(DWZ_NUM_SECTORS_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
            final int flags = scratch.getInt(DWZ_FLAGS_OFFSET, ByteOrder.LITTLE_ENDIAN);
            if ((flags & ~allowedFlags) != 0)
            {
                return out.complete(VIRTIO_BLK_S_UNSUPP);
            }
            if (sectors > maxSectors || !inCapacity(sector, sectors))
            {
                return out.complete(VIRTIO_BLK_S_IOERR);
            }
        }
        out.dwzSegmentCount(count);
        return submitReadableData(chain, readableData, out);
    }

    private static boolean isWholeSectors(final long length)
    {
        return length > 0 && (length & (VirtioBlk.SECTOR_SIZE - 1)) == 0;
    }

    /** [sector, sector + sectors) within the capacity, without overflowing (all unsigned). */
    private boolean inCapacity(final long sector, final long sectors)
    {
        return Long.compareUnsigned(sectors, capacity) <= 0 &&
            Long.compareUnsigned(sector, capacity - sectors) <= 0;
    }

    private static int submitWritableData(final DescriptorChain chain, final long length, final BlkRequest out)
    {
        final long start = ChainBytes.locateWritable(chain, 0);
        out.data(ChainBytes.segment(start), ChainBytes.offset(start), length, true);
        return out.submit();
    }

    private static int submitReadableData(final DescriptorChain chain, final long length, final BlkRequest out)
    {
        final long start = ChainBytes.locateReadable(chain, REQ_HEADER_LENGTH);
        out.data(ChainBytes.segment(start), ChainBytes.offset(start), length, false);
        return out.submit();
    }
}
