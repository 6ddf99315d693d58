package dev.braid.vhostuser;

/**
 * One virtqueue as the front end described it: size, base, front-end virtual ring addresses, the
 * kick/call/err eventfds and the spec's two state bits (started, enabled). Written by the control
 * thread; {@link #callFd} is also read by the agents that raise interrupts, hence volatile.
 */
final class Vring
{
    static final int NO_FD = -1;

    final int index;
    int num;
    int base;
    int addrFlags;
    long descUser;
    long usedUser;
    long availUser;
    boolean addressed;
    boolean started;
    boolean enabled;
    int kickFd = NO_FD;
    int errFd = NO_FD;
    volatile int callFd = NO_FD;

    Vring(final int index)
    {
        this.index = index;
    }

    /** The descriptor table's length in bytes for a split ring of {@code num} entries. */
    static long descLength(final int num)
    {
        return 16L * num;
    }

    /** flags, idx, ring[num], used_event. */
    static long availLength(final int num)
    {
        return 6L + 2L * num;
    }

    /** flags, idx, ring[num] of {id, len}, avail_event. */
    static long usedLength(final int num)
    {
        return 6L + 8L * num;
    }
}
