package dev.braid.stress.handoff;

/**
 * A model of the aggregator's per-request slot for a block request: plain fields, written by one
 * thread and handed to another only through a ring carrying the slot's index. Request fields are
 * written by the front queue, result fields and data by the card. Every value is a function of an
 * id so that a reader can tell the current request from a stale or half-written one.
 */
final class BlockSlot
{
    static final int DATA_WORDS = 4;

    long sector;
    int type;
    int length;
    int status;
    int written;
    final long[] data = new long[DATA_WORDS];

    /** Front queue: the parsed request header and the data to write. */
    void fillRequest(final int id)
    {
        sector = id * 0x1000_0001L;
        type = id;
        length = id * 512;
        for (int i = 0; i < DATA_WORDS; i++)
        {
            data[i] = id * 0x0100_0000_0000_0001L + i;
        }
    }

    boolean requestIs(final int id)
    {
        if (sector != id * 0x1000_0001L || type != id || length != id * 512)
        {
            return false;
        }
        for (int i = 0; i < DATA_WORDS; i++)
        {
            if (data[i] != id * 0x0100_0000_0000_0001L + i)
            {
                return false;
            }
        }
        return true;
    }

    /** Card: the outcome and the data it read. */
    void fillResult(final int id)
    {
        status = -id;
        written = id * 4096;
        for (int i = 0; i < DATA_WORDS; i++)
        {
            data[i] = ~(id * 0x0100_0000_0000_0001L + i);
        }
    }

    boolean resultIs(final int id)
    {
        if (status != -id || written != id * 4096)
        {
            return false;
        }
        for (int i = 0; i < DATA_WORDS; i++)
        {
            if (data[i] != ~(id * 0x0100_0000_0000_0001L + i))
            {
                return false;
            }
        }
        return true;
    }
}
