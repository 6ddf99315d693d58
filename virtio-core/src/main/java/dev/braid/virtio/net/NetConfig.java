package dev.braid.virtio.net;

import dev.braid.virtio.device.ConfigSpace;

/**
 * struct virtio_net_config as bytes. All fields are device-set (a modern driver changes the MAC
 * through the control queue, not the config space). MACs are passed as 48-bit longs, first octet
 * in the high byte, so 52:54:00:12:34:56 is {@code 0x525400123456L}.
 */
public final class NetConfig extends ConfigSpace
{
    public NetConfig()
    {
        super(NetDescriptor.CFG_LENGTH);
    }

    public long mac()
    {
        long mac = 0;
        for (int i = 0; i < VirtioNet.ETH_ALEN; i++)
        {
            mac = (mac << 8) | u8(NetDescriptor.CFG_MAC_OFFSET + i);
        }
        return mac;
    }

    public NetConfig mac(final long mac)
    {
        for (int i = 0; i < VirtioNet.ETH_ALEN; i++)
        {
            u8(NetDescriptor.CFG_MAC_OFFSET + i, (int)(mac >>> (8 * (VirtioNet.ETH_ALEN - 1 - i))));
        }
        return this;
    }

    public int status()
    {
        return u16(NetDescriptor.CFG_STATUS_OFFSET);
    }

    public NetConfig status(final int status)
    {
        u16(NetDescriptor.CFG_STATUS_OFFSET, status);
        return this;
    }

    public boolean linkUp()
    {
        return (status() & VirtioNet.VIRTIO_NET_S_LINK_UP) != 0;
    }

    public NetConfig linkUp(final boolean up)
    {
        return status(up ? status() | VirtioNet.VIRTIO_NET_S_LINK_UP : status() & ~VirtioNet.VIRTIO_NET_S_LINK_UP);
    }

    /** Asks the driver to announce itself (after a failover); cleared by the ANNOUNCE_ACK command. */
    public NetConfig announce(final boolean announce)
    {
        return status(announce ? status() | VirtioNet.VIRTIO_NET_S_ANNOUNCE : status() & ~VirtioNet.VIRTIO_NET_S_ANNOUNCE);
    }

    public boolean announce()
    {
        return (status() & VirtioNet.VIRTIO_NET_S_ANNOUNCE) != 0;
    }

    public int maxVirtqueuePairs()
    {
        return u16(NetDescriptor.CFG_MAX_VIRTQUEUE_PAIRS_OFFSET);
    }

    public NetConfig maxVirtqueuePairs(final int pairs)
    {
        u16(NetDescriptor.CFG_MAX_VIRTQUEUE_PAIRS_OFFSET, pairs);
        return this;
    }

    public int mtu()
    {
        return u16(NetDescriptor.CFG_MTU_OFFSET);
    }

    public NetConfig mtu(final int mtu)
    {
        u16(NetDescriptor.CFG_MTU_OFFSET, mtu);
        return this;
    }

    /** Mbit/s; 0xFFFFFFFF = unknown. */
    public long speed()
    {
        return u32(NetDescriptor.CFG_SPEED_OFFSET);
    }

    public NetConfig speed(final long speed)
    {
        u32(NetDescriptor.CFG_SPEED_OFFSET, speed);
        return this;
    }

    /** 0 half, 1 full, 0xFF unknown. */
    public int duplex()
    {
        return u8(NetDescriptor.CFG_DUPLEX_OFFSET);
    }

    public NetConfig duplex(final int duplex)
    {
        u8(NetDescriptor.CFG_DUPLEX_OFFSET, duplex);
        return this;
    }

    public int rssMaxKeySize()
    {
        return u8(NetDescriptor.CFG_RSS_MAX_KEY_SIZE_OFFSET);
    }

    public NetConfig rssMaxKeySize(final int size)
    {
        u8(NetDescriptor.CFG_RSS_MAX_KEY_SIZE_OFFSET, size);
        return this;
    }

    public int rssMaxIndirectionTableLength()
    {
        return u16(NetDescriptor.CFG_RSS_MAX_INDIRECTION_TABLE_LENGTH_OFFSET);
    }

    public NetConfig rssMaxIndirectionTableLength(final int length)
    {
        u16(NetDescriptor.CFG_RSS_MAX_INDIRECTION_TABLE_LENGTH_OFFSET, length);
        return this;
    }

    public long supportedHashTypes()
    {
        return u32(NetDescriptor.CFG_SUPPORTED_HASH_TYPES_OFFSET);
    }

    public NetConfig supportedHashTypes(final long types)
    {
        u32(NetDescriptor.CFG_SUPPORTED_HASH_TYPES_OFFSET, types);
        return this;
    }
}
