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
        try
        {
            return SelectorKind.parse(config.selector == null ? kindDefault : config.selector);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException("--selector must be one of round-robin, least-outstanding, service-time, " +
                "flow-hash, queue-affine: " + config.selector);
        }
    }

    /** The aggregation --mode and --selector say: active-passive with --failback, or active-active over the selector. */
    public static Aggregation aggregation(final SoakConfig config, final String kindDefault)
    {
        return config.activePassive() ? Aggregation.activePassive(config.failback) :
            Aggregation.activeActive(selector(config, kindDefault));
    }
}
