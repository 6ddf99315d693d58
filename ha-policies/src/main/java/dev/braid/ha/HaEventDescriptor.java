package dev.braid.ha;

/**
 * Layout of the rare control events sent to {@link HaController} through its many-to-one ring:
 * the message type says which event; the body is {@code int card | int arg | long arg}.
 */
final class HaEventDescriptor
{
    static final int LINK = 1;
    static final int PROBE_RESULT = 2;
    static final int HOT_ADD = 3;
    static final int HOT_REMOVE = 4;
    static final int CARD_DRAINED = 5;
    static final int GUEST_QUEUE_DRAINED = 6;
    static final int FAILBACK = 7;

    static final int CARD_OFFSET = 0;
    static final int INT_ARG_OFFSET = 4;
    static final int LONG_ARG_OFFSET = 8;
    static final int LENGTH = 16;

    private HaEventDescriptor()
    {
    }
}
