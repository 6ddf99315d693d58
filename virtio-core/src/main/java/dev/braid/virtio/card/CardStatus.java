package dev.braid.virtio.card;

/** Completion status codes shared by block and network cards. */
public final class CardStatus
{
    public static final int OK = 0;
    /** The medium or the path failed; the request may be retried on another card. */
    public static final int IO_ERROR = 1;
    /** The card does not support the operation; retrying elsewhere will not help. */
    public static final int UNSUPPORTED = 2;
    /** The request was cancelled by {@link Card#fence()}; it never touched guest memory after that. */
    public static final int CANCELLED = 3;
    /** The request is invalid for this card (e.g. beyond capacity); not retryable. */
    public static final int INVALID = 4;

    private CardStatus()
    {
    }

    /** Whether a failure is worth retrying on another card. */
    public static boolean isPathFailure(final int status)
    {
        return status == IO_ERROR || status == CANCELLED;
    }

    public static String describe(final int status)
    {
        switch (status)
        {
            case OK: return "ok";
            case IO_ERROR: return "io-error";
            case UNSUPPORTED: return "unsupported";
            case CANCELLED: return "cancelled";
            case INVALID: return "invalid";
            default: return "status-" + status;
        }
    }
}
