package dev.braid.ha;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded ring of failover events {@code (time, card, from, to, reason, epoch)}: one writer (the
 * controller) appends without allocating; any thread may read while it runs. Old entries are
 * overwritten; a reader learns so from {@link #read} returning false.
 *
 * <p>Seqlock discipline. The writer announces the entry it is about to overwrite ({@code claimed},
 * then a release fence so the field writes cannot move above it), writes the fields, and
 * publishes {@code appended} with a release store. A reader acquires {@code appended}, copies the
 * fields, issues a load-load fence, then re-reads {@code claimed}: if the slot was claimed by a
 * newer entry meanwhile, the copy may be torn and is rejected.
 */
public final class FailoverLog
{
    private static final VarHandle APPENDED;
    private static final VarHandle CLAIMED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            APPENDED = lookup.findVarHandle(FailoverLog.class, "appended", long.class);
            CLAIMED = lookup.findVarHandle(FailoverLog.class, "claimed", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final int capacity;
    private final long[] times;
    private final long[] epochs;
    private final int[] cards;
    private final byte[] froms;
    private final byte[] tos;
    private final byte[] reasons;
    @SuppressWarnings("unused") // accessed through APPENDED
    private volatile long appended;
    @SuppressWarnings("unused") // accessed through CLAIMED
    private volatile long claimed;

    public FailoverLog(final int capacity)
    {
        if (capacity <= 0)
        {
            throw new IllegalArgumentException("log capacity must be > 0: " + capacity);
        }
        this.capacity = capacity;
        times = new long[capacity];
        epochs = new long[capacity];
        cards = new int[capacity];
        froms = new byte[capacity];
        tos = new byte[capacity];
        reasons = new byte[capacity];
    }

    public int capacity()
    {
        return capacity;
    }

    /** Entries appended so far; entry {@code n} is readable while {@code n >= appended() - capacity()}. */
    public long appended()
    {
        return (long)APPENDED.getAcquire(this);
    }

    /** Single writer. */
    public void append(
        final long timeNanos,
        final int card,
        final HealthState from,
        final HealthState to,
        final TransitionReason reason,
        final long epoch)
    {
        final long n = (long)APPENDED.get(this);
        final int slot = (int)(n % capacity);
        CLAIMED.setOpaque(this, n + 1);
        VarHandle.releaseFence(); // the claim is visible no later than any field write below
        times[slot] = timeNanos;
        epochs[slot] = epoch;
        cards[slot] = card;
        froms[slot] = (byte)from.ordinal();
        tos[slot] = (byte)to.ordinal();
        reasons[slot] = (byte)reason.ordinal();
        APPENDED.setRelease(this, n + 1); // fields happen-before a reader that acquires the count
    }

    /**
     * Copies entry {@code seq} into {@code into}.
     *
     * @return false when the entry is not written yet or was overwritten.
     */
    public boolean read(final long seq, final Entry into)
    {
        final long n = (long)APPENDED.getAcquire(this);
        if (seq < 0 || seq >= n || seq < n - capacity)
        {
            return false;
        }
        final int slot = (int)(seq % capacity);
        into.seq = seq;
        into.timeNanos = times[slot];
        into.epoch = epochs[slot];
        into.card = cards[slot];
        final int from = froms[slot];
        final int to = tos[slot];
        final int reason = reasons[slot];
        VarHandle.loadLoadFence(); // the copies above are read before the re-check below
        if ((long)CLAIMED.getOpaque(this) > seq + capacity)
        {
            return false;
        }
        into.from = HealthState.of(from);
        into.to = HealthState.of(to);
        into.reason = TransitionReason.of(reason);
        return true;
    }

    /** A reusable holder for one entry. */
    public static final class Entry
    {
        long seq;
        long timeNanos;
        long epoch;
        int card;
        HealthState from;
        HealthState to;
        TransitionReason reason;

        public long seq()
        {
            return seq;
        }

        public long timeNanos()
        {
            return timeNanos;
        }

        public int card()
        {
            return card;
        }

        public HealthState from()
        {
            return from;
        }

        public HealthState to()
        {
            return to;
        }

        public TransitionReason reason()
        {
            return reason;
        }

        /** The epoch of the map in force once the controller handled the event. */
        public long epoch()
        {
            return epoch;
        }

        public String toString()
        {
            return "#" + seq + " t=" + timeNanos + " card=" + card + " " + from + "->" + to + " " + reason + " epoch=" + epoch;
        }
    }
}
