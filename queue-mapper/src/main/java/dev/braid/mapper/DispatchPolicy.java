package dev.braid.mapper;

/**
 * How a front queue spreads its requests over the routes the {@link QueueMap} gives it.
 *
 * <ul>
 *   <li><b>queue-affine</b> (the default): one card queue per guest queue, the first route; the
 *   card sees requests in guest order.</li>
 *   <li><b>request-spray</b> with a selector: every request may take a different route, so one
 *   guest queue can use more than one card's bandwidth. For blk and scsi, whose requests are
 *   independent; for net only with {@link SelectorKind#FLOW_HASH}, which keeps each flow in order.</li>
 * </ul>
 *
 * Immutable. External form: {@code queue-affine} or {@code spray:<selector>}, e.g.
 * {@code spray:least-outstanding}.
 */
public final class DispatchPolicy
{
    private static final String SPRAY_PREFIX = "spray:";
    private static final DispatchPolicy QUEUE_AFFINE = new DispatchPolicy(DispatchMode.QUEUE_AFFINE, SelectorKind.QUEUE_AFFINE);

    private final DispatchMode mode;
    private final SelectorKind selectorKind;

    private DispatchPolicy(final DispatchMode mode, final SelectorKind selectorKind)
    {
        this.mode = mode;
        this.selectorKind = selectorKind;
    }

    public static DispatchPolicy queueAffine()
    {
        return QUEUE_AFFINE;
    }

    /** Request-spray over {@code selectorKind}, which must not be {@link SelectorKind#QUEUE_AFFINE}. */
    public static DispatchPolicy requestSpray(final SelectorKind selectorKind)
    {
        if (selectorKind == null || selectorKind == SelectorKind.QUEUE_AFFINE)
        {
            throw new IllegalArgumentException("request-spray needs a spreading selector, not " + selectorKind);
        }
        return new DispatchPolicy(DispatchMode.REQUEST_SPRAY, selectorKind);
    }

    public static DispatchPolicy defaultPolicy()
    {
        return QUEUE_AFFINE;
    }

    /**
     * Parses {@code queue-affine} or {@code spray:<selector>}.
     *
     * @throws IllegalArgumentException with a one-line message.
     */
    public static DispatchPolicy parse(final String text)
    {
        final String trimmed = text == null ? "" : text.trim();
        if (trimmed.equalsIgnoreCase(SelectorKind.QUEUE_AFFINE.externalName()))
        {
            return QUEUE_AFFINE;
        }
        if (trimmed.regionMatches(true, 0, SPRAY_PREFIX, 0, SPRAY_PREFIX.length()))
        {
            return requestSpray(SelectorKind.parse(trimmed.substring(SPRAY_PREFIX.length())));
        }
        throw new IllegalArgumentException(
            "unknown dispatch policy '" + text + "' (valid: queue-affine, spray:<selector>)");
    }

    public DispatchMode mode()
    {
        return mode;
    }

    public SelectorKind selectorKind()
    {
        return selectorKind;
    }

    /** Whether requests of one guest queue reach the card in guest order. */
    public boolean preservesQueueOrder()
    {
        return mode == DispatchMode.QUEUE_AFFINE;
    }

    /** Whether requests of one flow (same flow hash) reach the card in guest order. */
    public boolean preservesFlowOrder()
    {
        return mode == DispatchMode.QUEUE_AFFINE || selectorKind == SelectorKind.FLOW_HASH;
    }

    /** A selector for one front queue under this policy. */
    public RouteSelector newSelector(final int maxCards, final int maxQueuesPerCard, final long seed)
    {
        return selectorKind.newSelector(maxCards, maxQueuesPerCard, seed);
    }

    public boolean equals(final Object o)
    {
        return o instanceof DispatchPolicy && ((DispatchPolicy)o).mode == mode &&
            ((DispatchPolicy)o).selectorKind == selectorKind;
    }

    public int hashCode()
    {
        return mode.hashCode() * 31 + selectorKind.hashCode();
    }

    public String toString()
    {
        return mode == DispatchMode.QUEUE_AFFINE ? selectorKind.externalName() : SPRAY_PREFIX + selectorKind.externalName();
    }
}
