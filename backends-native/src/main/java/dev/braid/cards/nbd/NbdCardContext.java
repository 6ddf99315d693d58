package dev.braid.cards.nbd;

import java.util.concurrent.TimeUnit;

/**
 * Configuration of one {@link NbdBlockCard}: fluent setters, then {@link #conclude()} fills defaults
 * and validates, throwing {@link IllegalArgumentException} with one line naming the bad value.
 */
public final class NbdCardContext
{
    private String name;
    private NbdUri uri;
    private int queueCount = 1;
    private int queueDepth = 64;
    private int maxConnections = -1;
    private boolean structuredReplies = true;
    private boolean forceUnitAccess;
    private long connectTimeoutNanos = TimeUnit.SECONDS.toNanos(5);
    private long requestTimeoutNanos = TimeUnit.SECONDS.toNanos(30);
    private long reconnectBackoffMinNanos = TimeUnit.MILLISECONDS.toNanos(10);
    private long reconnectBackoffMaxNanos = TimeUnit.SECONDS.toNanos(2);
    private long writeDrainTimeoutNanos = TimeUnit.SECONDS.toNanos(1);
    private boolean concluded;

    /** Parses {@code spec} as an NBD URI ({@link NbdUri#parse}). */
    public NbdCardContext uri(final String spec)
    {
        this.uri = NbdUri.parse(spec);
        return this;
    }

    public NbdCardContext uri(final NbdUri uri)
    {
        this.uri = uri;
        return this;
    }

    public NbdCardContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public NbdCardContext queueCount(final int queueCount)
    {
        this.queueCount = queueCount;
        return this;
    }

    public NbdCardContext queueDepth(final int queueDepth)
    {
        this.queueDepth = queueDepth;
        return this;
    }

    /** Most connections under multi-conn; default one per queue. */
    public NbdCardContext maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    /** Ask for structured replies (NBD_OPT_STRUCTURED_REPLY); simple replies when off or refused. */
    public NbdCardContext structuredReplies(final boolean structuredReplies)
    {
        this.structuredReplies = structuredReplies;
        return this;
    }

    /** Send every write, trim and write-zeroes with NBD_CMD_FLAG_FUA when the server supports it. */
    public NbdCardContext forceUnitAccess(final boolean forceUnitAccess)
    {
        this.forceUnitAccess = forceUnitAccess;
        return this;
    }

    public NbdCardContext connectTimeout(final long duration, final TimeUnit unit)
    {
        this.connectTimeoutNanos = unit.toNanos(duration);
        return this;
    }

    /** A request unanswered for this long fails the card (a stalled server is a failed path). */
    public NbdCardContext requestTimeout(final long duration, final TimeUnit unit)
    {
        this.requestTimeoutNanos = unit.toNanos(duration);
        return this;
    }

    /**
     * How long a fence, or a failure of a path that is still connected, waits for the server to answer
     * the writes it was already sent before their replay elsewhere may start; 0 closes at once. A write
     * still unanswered then may land at the storage later (counted, one log line).
     */
    public NbdCardContext writeDrainTimeout(final long duration, final TimeUnit unit)
    {
        this.writeDrainTimeoutNanos = unit.toNanos(duration);
        return this;
    }

    public NbdCardContext reconnectBackoff(final long min, final long max, final TimeUnit unit)
    {
        this.reconnectBackoffMinNanos = unit.toNanos(min);
        this.reconnectBackoffMaxNanos = unit.toNanos(max);
        return this;
    }

    public NbdCardContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (null == uri)
        {
            throw new IllegalArgumentException("nbd card: uri is required (nbd://HOST:PORT/EXPORT or nbd+unix:///EXPORT?socket=PATH)");
        }
        if (null == name)
        {
            name = "nbd";
        }
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' '))
        {
            throw new IllegalArgumentException("nbd card: name '" + name + "' must be non-empty without spaces");
        }
        if (queueCount < 1 || queueCount > NbdCookie.MAX_QUEUES)
        {
            throw new IllegalArgumentException("nbd card " + name + ": queueCount " + queueCount + " is not 1.." + NbdCookie.MAX_QUEUES);
        }
        if (queueDepth < 1 || queueDepth > NbdCookie.MAX_SLOTS)
        {
            throw new IllegalArgumentException("nbd card " + name + ": queueDepth " + queueDepth + " is not 1.." + NbdCookie.MAX_SLOTS);
        }
        if (maxConnections == -1)
        {
            maxConnections = queueCount;
        }
        if (maxConnections < 1)
        {
            throw new IllegalArgumentException("nbd card " + name + ": maxConnections " + maxConnections + " is not >= 1");
        }
        if (connectTimeoutNanos <= 0)
        {
            throw new IllegalArgumentException("nbd card " + name + ": connectTimeout " + connectTimeoutNanos + " ns is not > 0");
        }
        if (requestTimeoutNanos <= 0)
        {
            throw new IllegalArgumentException("nbd card " + name + ": requestTimeout " + requestTimeoutNanos + " ns is not > 0");
        }
        if (writeDrainTimeoutNanos < 0)
        {
            throw new IllegalArgumentException("nbd card " + name + ": writeDrainTimeout " + writeDrainTimeoutNanos + " ns is not >= 0");
        }
        if (reconnectBackoffMinNanos <= 0 || reconnectBackoffMaxNanos < reconnectBackoffMinNanos)
        {
            throw new IllegalArgumentException("nbd card " + name + ": reconnectBackoff " + reconnectBackoffMinNanos + ".." +
                reconnectBackoffMaxNanos + " ns is not 0 < min <= max");
        }
        concluded = true;
        return this;
    }

    public String name()
    {
        return name;
    }

    public NbdUri uri()
    {
        return uri;
    }

    public int queueCount()
    {
        return queueCount;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    public int maxConnections()
    {
        return maxConnections;
    }

    public boolean structuredReplies()
    {
        return structuredReplies;
    }

    public boolean forceUnitAccess()
    {
        return forceUnitAccess;
    }

    public long connectTimeoutNanos()
    {
        return connectTimeoutNanos;
    }

    public long requestTimeoutNanos()
    {
        return requestTimeoutNanos;
    }

    public long writeDrainTimeoutNanos()
    {
        return writeDrainTimeoutNanos;
    }

    public long reconnectBackoffMinNanos()
    {
        return reconnectBackoffMinNanos;
    }

    public long reconnectBackoffMaxNanos()
    {
        return reconnectBackoffMaxNanos;
    }
}
