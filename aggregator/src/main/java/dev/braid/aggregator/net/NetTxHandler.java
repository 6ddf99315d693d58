package dev.braid.aggregator.net;

import dev.braid.aggregator.ChainGather;
import dev.braid.aggregator.PushHandler;
import dev.braid.mapper.FlowHash;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetDescriptor;
import dev.braid.virtio.net.NetTxParser;
import dev.braid.virtio.net.NetTxRequest;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * virtio-net tx over NICs: validate the chain (virtio_net_hdr_v1, then the frame), hand the
 * readable segments to a card as a {@link NetFrame} that skips the header, zero copy, and complete
 * with used length 0. The 5-tuple hash keeps a flow on one card, so its frames stay in order.
 *
 * <p>A frame whose card failed (IO_ERROR, or CANCELLED by a fence) is sent again on a survivor: on
 * a wire a frame may at worst arrive twice, which every protocol above Ethernet tolerates, while a
 * lost tx completion would hang the guest's queue. A bad chain is dropped (used length 0), as a
 * NIC drops a malformed frame.
 */
public final class NetTxHandler implements PushHandler<NetCard>
{
    /** Frame bytes read for the flow hash: enough for Ethernet, two VLAN tags, IPv6 and ports. */
    static final int HASH_BYTES = 128;

    private static final int ETH_SRC = 6;
    private static final int ETH_TYPE = 12;
    private static final int IPV4_SRC = 14 + 12;
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;
    /** ARP for IPv4 over Ethernet: the sender protocol address. */
    private static final int ARP_SPA = 14 + 14;

    private final GuestMemory memory;
    private final NetTxParser parser;
    private final NetDeviceState state;
    private final NetTxRequest request = new NetTxRequest();
    private final NetFrame[] frames;
    private final int[] hashes;
    private final byte[] scratch = new byte[HASH_BYTES];
    private long dropped;
    private int lastLearned;

    /**
     * @param state where a learned guest IPv4 address goes (for announces); may be null.
     */
    public NetTxHandler(
        final GuestMemory memory, final NetTxParser parser, final int queueSize, final int maxSegments,
        final NetDeviceState state)
    {
        this.memory = memory;
        this.parser = parser;
        this.state = state;
        frames = new NetFrame[queueSize];
        hashes = new int[queueSize];
        for (int i = 0; i < queueSize; i++)
        {
            frames[i] = new NetFrame(maxSegments);
            frames[i].headerSkip(NetDescriptor.HDR_LENGTH);
        }
    }

    public int prepare(final int slot, final DescriptorChain chain)
    {
        if (parser.parse(memory, chain, request) != NetTxParser.TX_OK)
        {
            dropped++;
            return 0;
        }
        final NetFrame frame = frames[slot];
        final IoVector data = frame.data();
        data.reset(memory);
        // The whole readable stream, header included: the card skips the first 12 bytes.
        if (!ChainGather.gather(chain, 0, 0, chain.readableBytes(), data))
        {
            dropped++;
            return 0;
        }
        final int n = data.copyOut(NetDescriptor.HDR_LENGTH, scratch, 0, (int)Math.min(HASH_BYTES, request.frameLength()));
        hashes[slot] = FlowHash.ofFrame(scratch, 0, n);
        learnAddress(n);
        return SUBMIT;
    }

    /**
     * Remembers the guest's IPv4 source addresses (IPv4 source, or an ARP's sender address: a
     * guest's first frame is usually its ARP request), so the device can announce them after a
     * failover. The last one seen is cached here, so a steady flow costs one compare.
     */
    private void learnAddress(final int n)
    {
        if (state == null || (scratch[ETH_SRC] & 1) != 0 || n < ETH_TYPE + 2)
        {
            return;
        }
        final int type = (scratch[ETH_TYPE] & 0xFF) << 8 | scratch[ETH_TYPE + 1] & 0xFF;
        final int at = type == ETHERTYPE_IPV4 ? IPV4_SRC : type == ETHERTYPE_ARP ? ARP_SPA : -1;
        if (at < 0 || n < at + 4)
        {
            return;
        }
        final int address = (scratch[at] & 0xFF) << 24 | (scratch[at + 1] & 0xFF) << 16 |
            (scratch[at + 2] & 0xFF) << 8 | scratch[at + 3] & 0xFF;
        if (address != 0 && address != lastLearned)
        {
            lastLearned = address;
            if (!state.knowsGuestIpv4(address))
            {
                state.guestIpv4(address);
            }
        }
    }

    public int flowHash(final int slot)
    {
        return hashes[slot];
    }

    public boolean submit(final NetCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        return card.transmit(cardQueue, frames[slot], token, sink);
    }

    public boolean isPathFailure(final int slot, final int status)
    {
        return CardStatus.isPathFailure(status);
    }

    public int complete(final int slot, final int status, final int length)
    {
        // tx buffers are read-only: the used length is 0 whether the card sent or refused the frame.
        return 0;
    }

    public int fail(final int slot)
    {
        return 0;
    }

    /** Frames dropped for a bad chain or too many segments. Front queue thread. */
    public long dropped()
    {
        return dropped;
    }

    /** The frame prepared in {@code slot} (tests). */
    NetFrame frame(final int slot)
    {
        return frames[slot];
    }
}
