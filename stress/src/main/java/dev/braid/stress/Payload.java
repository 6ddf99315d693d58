package dev.braid.stress;

/**
 * Entry contents derived from a small id (1..{@link #MAX_ID}), chosen so that a torn or stale entry
 * cannot pass for a whole one: every byte of the token repeats the id, and status and length are
 * further functions of it.
 */
public final class Payload
{
    public static final int MAX_ID = 15;

    private static final long BYTES = 0x0101_0101_0101_0101L;

    private Payload()
    {
    }

    public static long token(final int id)
    {
        return id * BYTES;
    }

    public static int status(final int id)
    {
        return id * 0x0101_0101;
    }

    public static int length(final int id)
    {
        return ~(id * 0x0001_0001);
    }

    /** The id an entry claims to be, or 0 when out of range. */
    public static int idOf(final long token)
    {
        final int id = (int)(token & 0xFF);
        return id >= 1 && id <= MAX_ID ? id : 0;
    }

    /** Whether a submission value is a whole one for some id. */
    public static boolean isWhole(final long token)
    {
        final int id = idOf(token);
        return id != 0 && token == token(id);
    }

    /** Whether a completion entry is a whole one for some id. */
    public static boolean isWhole(final long token, final int status, final int length)
    {
        final int id = idOf(token);
        return id != 0 && token == token(id) && status == status(id) && length == length(id);
    }
}
