package dev.braid.examples.soak;

import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;

/** Maps the CLI's --mode, --selector and --failback onto one {@link Aggregation}. */
public final class Policies
{
    private Policies()
    {
    }

    public static SelectorKind selector(final SoakConfig config, final String kindDefault)
    {
        if (config.activePassive())
        {
            return SelectorKind.QUEUE_AFFINE;
        }
        return selector(config.selector, kindDefault);
    }

    /** --selector (null: {@code kindDefault}) as a {@link SelectorKind}; a bad name is a one-line {@link UsageException}. */
    public static SelectorKind selector(final String selector, final String kindDefault)
    {
        try
        {
            return SelectorKind.parse(selector == null ? kindDefault : selector);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException("--selector must be one of round-robin, least-outstanding, service-time, " +
                "flow-hash, queue-affine: " + selector);
        }
    }

    /** The aggregation --mode and --selector say: active-passive with --failback, or active-active over the selector. */
    public static Aggregation aggregation(final SoakConfig config, final String kindDefault)
    {
        return config.activePassive() ? Aggregation.activePassive(config.failback) :
            Aggregation.activeActive(selector(config, kindDefault));
    }
}
