package dev.braid.mapper;

import java.nio.ByteBuffer;

/** Builds test Ethernet frames (network byte order). */
final class Frames
{
    private Frames()
    {
    }

    static byte[] ipv4(final int src, final int dst, final int protocol, final int srcPort, final int dstPort,
        final int vlanTags, final int fragmentField, final int payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 4 * vlanTags + 20 + 8 + payload);
        ethernet(b, vlanTags, 0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + 8 + payload)).putShort((short)0x1234);
        b.putShort((short)fragmentField).put((byte)64).put((byte)protocol).putShort((short)0);
        b.putInt(src).putInt(dst);
        b.putShort((short)srcPort).putShort((short)dstPort).putInt(0xCAFEBABE);
        for (int i = 0; i < payload; i++)
        {
            b.put((byte)i);
        }
        return b.array();
    }

    /** IPv6; {@code extensions} hop-by-hop headers of 8 bytes, or a fragment header if {@code fragment}. */
    static byte[] ipv6(final long srcLow, final long dstLow, final int protocol, final int srcPort, final int dstPort,
        final int extensions, final boolean fragment)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 40 + 8 * extensions + (fragment ? 8 : 0) + 8 + 16);
        ethernet(b, 0, 0x86DD);
        final int first = extensions > 0 ? 0 : fragment ? 44 : protocol;
        b.putInt(0x60000000).putShort((short)(8 * extensions + 24)).put((byte)first).put((byte)64);
        b.putLong(0x20010DB800000000L).putLong(srcLow).putLong(0x20010DB800000000L).putLong(dstLow);
        for (int i = 0; i < extensions; i++)
        {
            final int next = i + 1 < extensions ? 0 : fragment ? 44 : protocol;
            b.put((byte)next).put((byte)0).putShort((short)0).putInt(0);
        }
        if (fragment)
        {
            b.put((byte)protocol).put((byte)0).putShort((short)1).putInt(77);
        }
        b.putShort((short)srcPort).putShort((short)dstPort).putInt(0);
        while (b.hasRemaining())
        {
            b.put((byte)0x5A);
        }
        return b.array();
    }

    private static void ethernet(final ByteBuffer b, final int vlanTags, final int etherType)
    {
        b.put(new byte[]{ 0x52, 0x54, 0, 1, 2, 3 }).put(new byte[]{ 0x52, 0x54, 0, 4, 5, 6 });
        for (int i = 0; i < vlanTags; i++)
        {
            b.putShort((short)(i == 0 && vlanTags == 2 ? 0x88A8 : 0x8100)).putShort((short)(100 + i));
        }
        b.putShort((short)etherType);
    }
}
