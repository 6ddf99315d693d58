package dev.braid.mapper;

/**
 * The route selectors by their external (configuration and CLI) names.
 */
public enum SelectorKind
{
    QUEUE_AFFINE("queue-affine"),
    ROUND_ROBIN("round-robin"),
    LEAST_OUTSTANDING("least-outstanding"),
    SERVICE_TIME("service-time"),
    FLOW_HASH("flow-hash");

    private static final SelectorKind[] VALUES = values();

    private final String externalName;

    SelectorKind(final String externalName)
    {
        this.externalName = externalName;
    }

    public String externalName()
    {
        return externalName;
    }

    /**
     * The kind named {@code name} (external name, case-insensitive, '_' accepted for '-').
     *
     * @throws IllegalArgumentException with a one-line message listing the valid names.
     */
    public static SelectorKind parse(final String name)
    {
        if (name != null)
        {
            final String normalised = name.trim().replace('_', '-');
            for (final SelectorKind kind : VALUES)
            {
                if (kind.externalName.equalsIgnoreCase(normalised))
                {
                    return kind;
                }
            }
        }
        final StringBuilder valid = new StringBuilder();
        for (final SelectorKind kind : VALUES)
        {
            valid.append(valid.length() == 0 ? "" : ", ").append(kind.externalName);
        }
        throw new IllegalArgumentException("unknown selector '" + name + "' (valid: " + valid + ")");
    }

    /**
     * A new selector of this kind for one front queue.
     *
     * @param maxCards         exclusive bound on card numbers in the routes it will see.
     * @param maxQueuesPerCard exclusive bound on card queue numbers in the routes it will see.
     * @param seed             tie-break seed (only {@link #LEAST_OUTSTANDING} uses it).
     */
    public RouteSelector newSelector(final int maxCards, final int maxQueuesPerCard, final long seed)
    {
        switch (this)
        {
            case QUEUE_AFFINE:
                return QueueAffineSelector.INSTANCE;
            case ROUND_ROBIN:
                return new RoundRobinSelector();
            case LEAST_OUTSTANDING:
                return new LeastOutstandingSelector(maxCards, maxQueuesPerCard, seed);
            case SERVICE_TIME:
                return new ServiceTimeSelector(maxCards, maxQueuesPerCard);
            case FLOW_HASH:
                return FlowHashSelector.INSTANCE;
            default:
                throw new IllegalStateException("unhandled selector kind " + this);
        }
    }

    public String toString()
    {
        return externalName;
    }
}
