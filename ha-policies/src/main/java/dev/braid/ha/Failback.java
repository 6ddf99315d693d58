package dev.braid.ha;

/** When active-passive moves guest queues back to a higher-priority card that is UP again. */
public final class Failback
{
    public enum Mode
    {
        /** As soon as the higher-priority card is UP. */
        IMMEDIATE,
        /** Only when {@link ActivePassivePolicy#failback()} is called. */
        MANUAL,
        /** Once the higher-priority card has been UP (not SUSPECT) continuously for the delay. */
        DELAYED
    }

    private static final Failback IMMEDIATE = new Failback(Mode.IMMEDIATE, 0);
    private static final Failback MANUAL = new Failback(Mode.MANUAL, 0);

    private final Mode mode;
    private final long delayNanos;

    private Failback(final Mode mode, final long delayNanos)
    {
        this.mode = mode;
        this.delayNanos = delayNanos;
    }

    public static Failback immediate()
    {
        return IMMEDIATE;
    }

    public static Failback manual()
    {
        return MANUAL;
    }

    public static Failback delayed(final long delayNanos)
    {
        if (delayNanos <= 0)
        {
            throw new IllegalArgumentException("failback delay must be > 0: " + delayNanos);
        }
        return new Failback(Mode.DELAYED, delayNanos);
    }

    public Mode mode()
    {
        return mode;
    }

    /** The delay of {@link Mode#DELAYED}, 0 otherwise. */
    public long delayNanos()
    {
        return delayNanos;
    }

    public String toString()
    {
        return mode == Mode.DELAYED ? "DELAYED(" + delayNanos + "ns)" : mode.name();
    }
}
