package dev.braid.cards.tap;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Configuration of one {@link TapNetCard}: fluent setters, then {@link #conclude()} fills defaults
 * and validates, throwing {@link IllegalArgumentException} with one line naming the bad value.
 */
public final class TapCardContext
{
    public static final String SCHEME = "tap:";
    /** Linux IFNAMSIZ less the terminating NUL. */
    public static final int MAX_IFNAME_LENGTH = 15;
    /** Segments one frame may have after splitting at guest memory region edges. */
    public static final int MAX_SEGMENTS = 128;

    private String name;
    private String ifname;
    private int queueCount = 1;
    private int queueDepth = 256;
    private int vnetHeaderLength = 12;
    private long linkCheckIntervalNanos = TimeUnit.MILLISECONDS.toNanos(10);
    private boolean concluded;

    /** Parses {@code spec}, {@code tap:IFNAME}. */
    public TapCardContext spec(final String spec)
    {
        if (null == spec || !spec.startsWith(SCHEME))
        {
            throw new IllegalArgumentException("tap card: spec '" + spec + "' is not tap:IFNAME");
        }
        return ifname(spec.substring(SCHEME.length()));
    }

    /** The TAP interface: attached to when it exists (flags must match), created otherwise. */
    public TapCardContext ifname(final String ifname)
    {
        this.ifname = ifname;
        return this;
    }

    public TapCardContext name(final String name)
    {
        this.name = name;
        return this;
    }

    /** Queue pairs: one TAP fd each (IFF_MULTI_QUEUE). */
    public TapCardContext queueCount(final int queueCount)
    {
        this.queueCount = queueCount;
        return this;
    }

    /** Tx frames sent but not yet reported to their sinks, per queue. */
    public TapCardContext queueDepth(final int queueDepth)
    {
        this.queueDepth = queueDepth;
        return this;
    }

    /** The virtio-net header the TAP puts before each frame: 10 (legacy, no MRG_RXBUF) or 12. */
    public TapCardContext vnetHeaderLength(final int vnetHeaderLength)
    {
        this.vnetHeaderLength = vnetHeaderLength;
        return this;
    }

    /** How often a card worker checks the interface flags (up, running, still there). */
    public TapCardContext linkCheckInterval(final long duration, final TimeUnit unit)
    {
        this.linkCheckIntervalNanos = unit.toNanos(duration);
        return this;
    }

    public TapCardContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (null == ifname || ifname.isEmpty())
        {
            throw new IllegalArgumentException("tap card: interface name is required (tap:IFNAME)");
        }
        if (ifname.getBytes(StandardCharsets.UTF_8).length > MAX_IFNAME_LENGTH)
        {
            throw new IllegalArgumentException("tap card: interface name '" + ifname + "' is longer than " +
                MAX_IFNAME_LENGTH + " bytes");
        }
        if (ifname.equals(".") || ifname.equals("..") ||
            ifname.chars().anyMatch(c -> c <= ' ' || c == '/' || c == ':' || c >= 0x7f))
        {
            throw new IllegalArgumentException("tap card: interface name '" + ifname + "' is not a valid Linux name");
        }
        if (null == name)
        {
            name = ifname;
        }
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' '))
        {
            throw new IllegalArgumentException("tap card: name '" + name + "' must be non-empty without spaces");
        }
        if (queueCount < 1 || queueCount > 256)
        {
            throw new IllegalArgumentException("tap card " + name + ": queueCount " + queueCount + " is not 1..256");
        }
        if (queueDepth < 1 || queueDepth > 65_536)
        {
            throw new IllegalArgumentException("tap card " + name + ": queueDepth " + queueDepth + " is not 1..65536");
        }
        if (vnetHeaderLength != 10 && vnetHeaderLength != 12)
        {
            throw new IllegalArgumentException("tap card " + name + ": vnetHeaderLength " + vnetHeaderLength + " is not 10 or 12");
        }
        if (linkCheckIntervalNanos <= 0)
        {
            throw new IllegalArgumentException("tap card " + name + ": linkCheckInterval " + linkCheckIntervalNanos + " ns is not > 0");
        }
        concluded = true;
        return this;
    }

    public String name()
    {
        return name;
    }

    public String ifname()
    {
        return ifname;
    }

    public int queueCount()
    {
        return queueCount;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    public int vnetHeaderLength()
    {
        return vnetHeaderLength;
    }

    public long linkCheckIntervalNanos()
    {
        return linkCheckIntervalNanos;
    }
}
