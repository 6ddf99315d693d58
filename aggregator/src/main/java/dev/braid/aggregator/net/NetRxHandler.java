package dev.braid.aggregator.net;

import dev.braid.aggregator.ChainGather;
import dev.braid.aggregator.PullHandler;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetDescriptor;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * virtio-net rx, pulled: each guest rx buffer (device-writable: header space, then frame space)
 * is held by a card worker, which asks its card for a frame straight into the buffer after the
 * 12-byte header, then writes a virtio_net_hdr_v1 that asks nothing of the driver (no checksum or
 * GSO flags, num_buffers 1: one frame per buffer, with or without MRG_RXBUF).
 *
 * <p>A buffer held by a card that is fenced comes back CANCELLED (or is replayed when the fence
 * generation moves) and is simply held by another card: the guest never sees it until a frame is
 * in it. A buffer is never failed for want of a card: like a NIC without link, the device keeps it.
 */
public final class NetRxHandler implements PullHandler<NetCard>
{
    /** Smallest buffer worth holding: header and an Ethernet header. */
    static final int MIN_BUFFER = NetDescriptor.HDR_LENGTH + VirtioNet.ETH_HLEN;

    /** flags 0, gso NONE, hdr_len 0, gso_size 0, csum 0/0, num_buffers 1 (little-endian). Read-only. */
    private static final byte[] RX_HEADER = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};

    private final GuestMemory memory;
    private final NetFrame[] frames;
    private long badBuffers;

    public NetRxHandler(final GuestMemory memory, final int queueSize, final int maxSegments)
    {
        this.memory = memory;
        frames = new NetFrame[queueSize];
        for (int i = 0; i < queueSize; i++)
        {
            frames[i] = new NetFrame(maxSegments);
            frames[i].headerSkip(NetDescriptor.HDR_LENGTH);
        }
    }

    public int prepare(final int slot, final DescriptorChain chain)
    {
        // rx buffers are write-only and must at least hold the header and an Ethernet header.
        if (chain.readableCount() != 0 || chain.writableBytes() < MIN_BUFFER)
        {
            badBuffers++;
            return 0;
        }
        final IoVector data = frames[slot].data();
        data.reset(memory);
        if (!ChainGather.gather(chain, 0, 0, chain.writableBytes(), data))
        {
            badBuffers++;
            return 0;
        }
        return SUBMIT;
    }

    public int flowHash(final int slot)
    {
        // Buffers carry no flow: spread them, each head always to the same card while the map holds.
        return slot * 0x9E3779B1;
    }


    /** Card worker thread; touches only this slot's buffer, which no other thread holds. */
    public int receive(final NetCard card, final int cardQueue, final int slot)
    {
        final NetFrame frame = frames[slot];
        final int length = card.receive(cardQueue, frame);
        if (length <= 0 || length > frame.frameLength())
        {
            // Nothing waiting, or dropped (too big for this buffer, or a card claiming more than fits).
            return length == 0 ? 0 : -1;
        }
        frame.data().copyIn(0, RX_HEADER, 0, RX_HEADER.length);
        return NetDescriptor.HDR_LENGTH + length;
    }

    public boolean isPathFailure(final int slot, final int status)
    {
        return CardStatus.isPathFailure(status);
    }

    public int complete(final int slot, final int status, final int length)
    {
        return status == CardStatus.OK ? length : 0;
    }

    public int fail(final int slot)
    {
        return 0;
    }

    /** Buffers completed at once, unused, for a bad layout. Front queue thread. */
    public long badBuffers()
    {
        return badBuffers;
    }

    /** The buffer prepared in {@code slot} (tests). */
    NetFrame frame(final int slot)
    {
        return frames[slot];
    }
}
