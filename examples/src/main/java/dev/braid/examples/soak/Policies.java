package dev.braid.examples.soak;

import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.ActivePassivePolicy;
import dev.braid.ha.DispatchShape;
import dev.braid.ha.MapPolicy;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;

/** Maps the CLI's --mode and --selector onto a map policy and a dispatch policy. */
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

    public static MapPolicy mapPolicy(final SoakConfig config, final int queues, final String kindDefault)
    {
        if (config.activePassive())
        {
            return new ActivePassivePolicy(queues, config.failback);
        }
        return new ActiveActivePolicy(queues, selector(config, kindDefault) == SelectorKind.QUEUE_AFFINE ?
            DispatchShape.QUEUE_AFFINE : DispatchShape.REQUEST_SPRAY);
    }

    public static DispatchPolicy dispatch(final SoakConfig config, final String kindDefault)
    {
        final SelectorKind kind = selector(config, kindDefault);
        return kind == SelectorKind.QUEUE_AFFINE ? DispatchPolicy.queueAffine() : DispatchPolicy.requestSpray(kind);
    }
}
