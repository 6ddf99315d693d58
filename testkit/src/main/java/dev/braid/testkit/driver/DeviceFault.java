package dev.braid.testkit.driver;

/**
 * Protocol violations by the device that the driver model notices while reaping. A real guest
 * driver would report them and reset the device; the model counts them so that tests can assert
 * that Braid's device side never commits one (no duplicate completion, no completion for a buffer
 * that was not posted).
 */
public final class DeviceFault
{
    public static final int NONE = 0;
    /** A used entry names an id that is out of range or not in flight (a duplicate or a stray). */
    public static final int UNKNOWN_ID = 1;
    /** Split: used.idx moved by more than the queue size. The queue is broken. */
    public static final int USED_INDEX_JUMP = 2;
    /** The used length exceeds the writable bytes the driver posted for that buffer. */
    public static final int LENGTH_TOO_LONG = 3;

    private DeviceFault()
    {
    }

    public static String describe(final int fault)
    {
        switch (fault)
        {
            case NONE: return "none";
            case UNKNOWN_ID: return "used id not in flight";
            case USED_INDEX_JUMP: return "used index jumped by more than the queue size";
            case LENGTH_TOO_LONG: return "used length exceeds the writable bytes posted";
            default: return "unknown fault " + fault;
        }
    }
}
