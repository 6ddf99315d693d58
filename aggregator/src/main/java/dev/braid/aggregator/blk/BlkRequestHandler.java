package dev.braid.aggregator.blk;

import dev.braid.aggregator.ChainGather;
import dev.braid.aggregator.PushHandler;
import dev.braid.virtio.blk.BlkRequest;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * virtio-blk over block cards: parse the header, hand the data segments to a card as a
 * {@link BlockIo}, write the status byte when it is done. GET_ID is answered here; every card
 * serves the same disk, so no card needs to be asked.
 */
public final class BlkRequestHandler implements PushHandler<BlockCard>
{
    private final GuestMemory memory;
    private final BlkRequestParser parser;
    private final BlkRequest[] requests;
    private final BlockIo[] ios;
    private final byte[] deviceId;
    private final byte[] scratch = new byte[16];

    public BlkRequestHandler(
        final GuestMemory memory, final BlkRequestParser parser, final int queueSize, final int maxSegments,
        final byte[] deviceId)
    {
        this.memory = memory;
        this.parser = parser;
        this.deviceId = deviceId.clone();
        requests = new BlkRequest[queueSize];
        ios = new BlockIo[queueSize];
        for (int i = 0; i < queueSize; i++)
        {
            requests[i] = new BlkRequest();
            ios[i] = new BlockIo(maxSegments);
        }
    }

    public int prepare(final int slot, final DescriptorChain chain)
    {
        final BlkRequest request = requests[slot];
        parser.parse(memory, chain, request);
        if (request.outcome() == BlkRequest.COMPLETE_NO_STATUS)
        {
            return 0;
        }
        if (request.outcome() == BlkRequest.COMPLETE)
        {
            memory.putByte(request.statusGpa(), (byte)request.status());
            return 1;
        }

        final BlockIo io = ios[slot];
        final IoVector data = io.data();
        data.reset(memory);
        if (!ChainGather.gather(chain, request.dataSegment(), request.dataOffset(), request.dataLength(), data))
        {
            return completeNow(request, VirtioBlk.VIRTIO_BLK_S_IOERR);
        }
        final long type = request.type();
        if (type == VirtioBlk.VIRTIO_BLK_T_IN)
        {
            io.set(BlockIo.READ, request.sector());
        }
        else if (type == VirtioBlk.VIRTIO_BLK_T_OUT)
        {
            io.set(BlockIo.WRITE, request.sector());
        }
        else if (type == VirtioBlk.VIRTIO_BLK_T_FLUSH)
        {
            io.setRange(BlockIo.FLUSH, 0, 0);
        }
        else if (type == VirtioBlk.VIRTIO_BLK_T_GET_ID)
        {
            final int written = data.copyIn(0, deviceId, 0, (int)Math.min(deviceId.length, data.totalLength()));
            memory.putByte(request.statusGpa(), (byte)VirtioBlk.VIRTIO_BLK_S_OK);
            return written + 1;
        }
        else if (type == VirtioBlk.VIRTIO_BLK_T_DISCARD || type == VirtioBlk.VIRTIO_BLK_T_WRITE_ZEROES)
        {
            // The device offers one segment per request (max_*_seg = 1); the parser enforced it.
            if (data.copyOut(0, scratch, 0, 16) != 16)
            {
                return completeNow(request, VirtioBlk.VIRTIO_BLK_S_IOERR);
            }
            final long sector = littleEndianLong(scratch, 0);
            final long sectors = littleEndianInt(scratch, 8) & 0xFFFF_FFFFL;
            io.setRange(type == VirtioBlk.VIRTIO_BLK_T_DISCARD ? BlockIo.DISCARD : BlockIo.WRITE_ZEROES, sector, sectors);
        }
        else
        {
            return completeNow(request, VirtioBlk.VIRTIO_BLK_S_UNSUPP);
        }
        return SUBMIT;
    }

    private int completeNow(final BlkRequest request, final int status)
    {
        memory.putByte(request.statusGpa(), (byte)status);
        return 1;
    }

    public int flowHash(final int slot)
    {
        // Neighbouring sectors share a hash, so sequential streams stay on one card when sprayed by flow.
        final long block = ios[slot].sector() >>> 8;
        return (int)(block ^ (block >>> 32)) * 0x9E3779B1;
    }

    public boolean submit(final BlockCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        return card.submit(cardQueue, ios[slot], token, sink);
    }

    public boolean isPathFailure(final int slot, final int status)
    {
        return CardStatus.isPathFailure(status);
    }

    public int complete(final int slot, final int status, final int length)
    {
        final BlkRequest request = requests[slot];
        final int blkStatus;
        switch (status)
        {
            case CardStatus.OK:
                blkStatus = VirtioBlk.VIRTIO_BLK_S_OK;
                break;
            case CardStatus.UNSUPPORTED:
                blkStatus = VirtioBlk.VIRTIO_BLK_S_UNSUPP;
                break;
            default:
                blkStatus = VirtioBlk.VIRTIO_BLK_S_IOERR;
                break;
        }
        memory.putByte(request.statusGpa(), (byte)blkStatus);
        final boolean read = ios[slot].operation() == BlockIo.READ && blkStatus == VirtioBlk.VIRTIO_BLK_S_OK;
        return (read ? Math.max(0, length) : 0) + 1;
    }

    public int fail(final int slot)
    {
        memory.putByte(requests[slot].statusGpa(), (byte)VirtioBlk.VIRTIO_BLK_S_IOERR);
        return 1;
    }

    private static long littleEndianLong(final byte[] bytes, final int offset)
    {
        return (littleEndianInt(bytes, offset) & 0xFFFF_FFFFL) | (long)littleEndianInt(bytes, offset + 4) << 32;
    }

    private static int littleEndianInt(final byte[] bytes, final int offset)
    {
        return (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8 |
            (bytes[offset + 2] & 0xFF) << 16 | (bytes[offset + 3] & 0xFF) << 24;
    }
}
