package dev.braid.examples.soak;

import dev.braid.virtio.memory.GuestMemory;

import java.util.HashMap;
import java.util.Map;

/**
 * The reference model of virtio-net as the guest may observe it, against a peer that echoes ICMP
 * and UDP: every tx chain completes exactly once; an rx buffer completes at most once per posting;
 * every echo reply that arrives carries the payload of a frame the guest transmitted, and no
 * payload is answered twice (the network may lose a reply, never invent or repeat one). Frames
 * are parsed from guest memory: a 12-byte virtio_net_hdr, Ethernet, IPv4, ICMP or UDP.
 */
public final class NetModel extends GuestModel
{
    private static final int HDR = 12;
    private static final int ETH = 14;

    private final int txQueue;
    private final Map<Long, Integer> sent = new HashMap<>();
    private final Map<Long, Integer> answered = new HashMap<>();
    private long txPosted;
    private long replies;
    private long badReplies;
    private long duplicateReplies;

    /** @param txQueue the model's index of the tx queue; any other index is rx. */
    public NetModel(final int txQueue)
    {
        this.txQueue = txQueue;
    }

    protected boolean mustComplete(final int queue)
    {
        return queue == txQueue;
    }

    protected void posted(final Posted p, final GuestMemory memory)
    {
        if (p.queue != txQueue)
        {
            return;
        }
        txPosted++;
        final byte[] frame = gather(p, memory, 0, p.count(), false, 1 << 16);
        final long key = payloadKey(frame, frame.length, true);
        if (key != 0)
        {
            sent.merge(key, 1, Integer::sum);
        }
    }

    protected void completed(final Posted p, final int length, final GuestMemory memory)
    {
        if (p.queue == txQueue)
        {
            return;
        }
        final byte[] frame = gather(p, memory, 0, p.count(), true, length & 0xFFFF_FFFFL);
        final long key = payloadKey(frame, frame.length, false);
        if (key == 0)
        {
            return;
        }
        replies++;
        checked++;
        final int times = sent.getOrDefault(key, 0);
        if (times == 0)
        {
            badReplies++;
            violation("rx queue " + p.queue + " id " + p.id + ": an echo reply (" + frame.length +
                " bytes) whose payload no transmitted frame carried");
            return;
        }
        final int seen = answered.merge(key, 1, Integer::sum);
        if (seen > times)
        {
            duplicateReplies++;
            violation("rx queue " + p.queue + " id " + p.id + ": a second echo reply to one transmitted payload");
        }
    }

    /**
     * A key of the echoed content of an IPv4 ICMP echo (request when {@code tx}, else reply) or UDP
     * frame: protocol, ICMP ident/seq or the UDP port pair (swapped back for a reply), payload.
     * 0 for any other frame.
     */
    private static long payloadKey(final byte[] f, final int length, final boolean tx)
    {
        final int ip = HDR + ETH;
        if (length < ip + 20 || (f[HDR + 12] & 0xFF) != 0x08 || f[HDR + 13] != 0x00 || (f[ip] & 0xF0) != 0x40)
        {
            return 0;
        }
        final int ihl = (f[ip] & 0x0F) * 4;
        final int total = u16(f, ip + 2);
        final int proto = f[ip + 9] & 0xFF;
        final int l4 = ip + ihl;
        final int end = Math.min(length, ip + total);
        if (end < l4 + 8)
        {
            return 0;
        }
        long h;
        if (proto == 1)
        {
            final int type = f[l4] & 0xFF;
            if (type != (tx ? 8 : 0))
            {
                return 0;
            }
            h = 1_000_003L * u16(f, l4 + 4) + u16(f, l4 + 6);
        }
        else if (proto == 17)
        {
            final int src = u16(f, l4);
            final int dst = u16(f, l4 + 2);
            h = 2_000_003L * (tx ? src : dst) + (tx ? dst : src);
        }
        else
        {
            return 0;
        }
        h = h * 31 + proto;
        final long k = h * 0x9E3779B97F4A7C15L ^ hash(f, l4 + 8, end - l4 - 8);
        return k == 0 ? 1 : k;
    }

    private static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xFF) << 8 | (f[at + 1] & 0xFF);
    }

    public long replies()
    {
        return replies;
    }

    public long badReplies()
    {
        return badReplies;
    }

    public long duplicateReplies()
    {
        return duplicateReplies;
    }
}
