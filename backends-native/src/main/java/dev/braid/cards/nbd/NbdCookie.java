package dev.braid.cards.nbd;

/**
 * The 64-bit NBD cookie of one request: which card queue and slot it occupies, and a per-slot
 * sequence so that a reply for an earlier use of the slot is recognised as unknown.
 *
 * <pre>
 *  63       56 55             40 39                               8 7      0
 * +-----------+-----------------+----------------------------------+--------+
 * |   queue   |      slot       |          sequence (32)           |  0x5A  |
 * +-----------+-----------------+----------------------------------+--------+
 * </pre>
 * The low byte is a fixed tag: a server echoing garbage rarely matches it. Sequences start at a
 * random value per slot, so a cookie cannot be guessed before its request was sent.
 */
final class NbdCookie
{
    static final int MAX_QUEUES = 256;
    static final int MAX_SLOTS = 1 << 16;
    private static final long TAG = 0x5A;

    private NbdCookie()
    {
    }

    static long pack(final int queue, final int slot, final int sequence)
    {
        return ((long)queue << 56) | ((long)slot << 40) | ((sequence & 0xFFFF_FFFFL) << 8) | TAG;
    }

    static int queue(final long cookie)
    {
        return (int)(cookie >>> 56);
    }

    static int slot(final long cookie)
    {
        return (int)(cookie >>> 40) & 0xFFFF;
    }

    static boolean tagged(final long cookie)
    {
        return (cookie & 0xFF) == TAG;
    }
}
