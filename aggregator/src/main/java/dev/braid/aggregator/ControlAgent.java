package dev.braid.aggregator;

import dev.braid.ha.HaController;
import dev.braid.ha.HealthState;
import dev.braid.ha.Membership;
import dev.braid.ha.ProbeRequester;
import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.CardStatus;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * The device's control conductor: ONE agent that runs the {@link HaController} and the control
 * plane in its own {@link #doWork()}, controller first (intake, health ticks, probe requests, map),
 * then the control plane (fencing, probes, hot-remove drains, device hooks). The two share plain
 * state (the controller's {@link dev.braid.ha.CardPool}, the {@link ProbeRequests}), so they must run
 * on one thread; being one agent makes that structural, however a scheduler deals agents. The
 * controller is never listed as an agent of its own (see {@link AggregatedDevice#agents()}).
 *
 * <p>The control plane turns health states into fencing, sends probes to cards that are coming
 * back, and drops hot-removed cards once nothing of theirs is in flight. Fencing follows health,
 * never the other way round: a card that is DOWN is fenced before any front queue may replay its
 * requests (replay waits for the fence generation to move); a card that is PROBING or UP is
 * unfenced so that probes and then traffic can reach it.
 *
 * <p>A probe that takes as long as the probe timeout or longer fails, even when its answer arrives
 * before the timeout is noticed: a card exactly as slow as the timeout must not pass its probes and
 * then time out on traffic, over and over.
 */
final class ControlAgent implements Agent, CompletionHandler
{
    /**
     * The controller's {@link ProbeRequester}: plain flags, set inside {@link HaController#doWork()}
     * and read by the control plane in the same {@link ControlAgent#doWork()}, on the same thread.
     * Built before the controller, so neither needs a setter to find the other.
     */
    static final class ProbeRequests implements ProbeRequester
    {
        private final boolean[] wanted;

        ProbeRequests(final int maxCards)
        {
            wanted = new boolean[maxCards];
        }

        public void requestProbe(final int card)
        {
            if (card >= 0 && card < wanted.length)
            {
                wanted[card] = true;
            }
        }

        boolean isWanted(final int card)
        {
            return wanted[card];
        }

        void clear(final int card)
        {
            wanted[card] = false;
        }
    }

    private final HaController ha;
    private final ProbeRequests probeRequests;
    private final CardPort<?>[] ports;
    private final FrontQueue[] frontQueues;
    private final FailoverTracker failovers;
    private final NanoClock clock;
    private final ManyToOneCompletionRing probeCompletions;
    private final int probeQueue;
    private final long probeTimeoutNanos;
    private final int[] probeAttempt;
    private final long[] probeSentAt;
    private final boolean[] probeOutstanding;
    private final ControlPlaneListener listener;
    private long nowNanos;

    /**
     * @param ha            the controller this conductor runs; built with {@code probeRequests} as its prober.
     * @param probeTimeoutNanos how long a probe may take; at or past it the probe fails.
     */
    ControlAgent(
        final HaController ha,
        final ProbeRequests probeRequests,
        final CardPort<?>[] ports,
        final FrontQueue[] frontQueues,
        final FailoverTracker failovers,
        final NanoClock clock,
        final ManyToOneCompletionRing probeCompletions,
        final long probeTimeoutNanos,
        final ControlPlaneListener listener)
    {
        this.ha = ha;
        this.probeRequests = probeRequests;
        this.listener = listener;
        this.ports = ports;
        this.frontQueues = frontQueues;
        this.failovers = failovers;
        this.clock = clock;
        this.probeCompletions = probeCompletions;
        this.probeQueue = frontQueues.length;
        this.probeTimeoutNanos = probeTimeoutNanos;
        probeAttempt = new int[ports.length];
        probeSentAt = new long[ports.length];
        probeOutstanding = new boolean[ports.length];
    }

    HaController controller()
    {
        return ha;
    }

    public String roleName()
    {
        return "braid-control";
    }

    public void onStart()
    {
        ha.onStart();
    }

    public void onClose()
    {
        ha.onClose();
    }

    public int doWork()
    {
        int work = ha.doWork();
        final long now = clock.nanoTime();
        nowNanos = now;
        work += probeCompletions.drain(this, 64);
        for (final CardPort<?> port : ports)
        {
            if (port == null)
            {
                continue;
            }
            // A fence whose card finishes it in the background (an NBD drain) completes here, later.
            if (port.isFencePending() && port.completeFence())
            {
                work++;
            }
            if (port.isRemoved())
            {
                continue;
            }
            final int card = port.index();
            if (!ha.pool().contains(card))
            {
                continue;
            }
            final HealthState health = ha.pool().health(card);
            if (health == HealthState.DOWN && !port.isFenced())
            {
                port.fence();
                failovers.onFenced(card, now);
                listener.onCardFenced(card, now);
                work++;
            }
            else if ((health == HealthState.PROBING || health == HealthState.UP) && port.isFenced() &&
                port.unfence())
            {
                work++;
            }
            if (ha.pool().membership(card) == Membership.REMOVING && isDrained(card) && ha.onCardDrained(card))
            {
                port.remove();
                listener.onCardFenced(card, now);
                work++;
            }
            work += serviceProbe(port, now);
        }
        work += listener.doWork(now);
        return work;
    }

    private boolean isDrained(final int card)
    {
        for (final FrontQueue front : frontQueues)
        {
            // Held rx buffers would wait for frames forever; removing the card fences it, which
            // hands them back to their front queue to be posted on another card.
            if (!front.isPull() && front.outstanding(card) != 0)
            {
                return false;
            }
        }
        return true;
    }

    private int serviceProbe(final CardPort<?> port, final long now)
    {
        final int card = port.index();
        if (probeOutstanding[card])
        {
            if (now - probeSentAt[card] >= probeTimeoutNanos)
            {
                probeOutstanding[card] = false;
                probeAttempt[card]++;
                ha.onProbeResult(card, false, now - probeSentAt[card]);
                return 1;
            }
            return 0;
        }
        if (!probeRequests.isWanted(card) || port.isFenced())
        {
            return 0;
        }
        final long token = CompletionToken.encode(probeQueue, card, port.fenceGeneration(), probeAttempt[card]);
        if (port.controlRing().offer(token))
        {
            probeRequests.clear(card);
            probeOutstanding[card] = true;
            probeSentAt[card] = now;
            return 1;
        }
        return 0;
    }

    public void onCompletion(final long token, final int status, final int length)
    {
        final int card = CompletionToken.head(token);
        if (card >= ports.length || !probeOutstanding[card] || !CompletionToken.isAttempt(token, probeAttempt[card]))
        {
            return;
        }
        probeOutstanding[card] = false;
        probeAttempt[card]++;
        // As slow as the timeout is too slow, as for a request; the controller also fails a probe
        // that took the completion timeout or longer.
        final long latency = nowNanos - probeSentAt[card];
        ha.onProbeResult(card, status == CardStatus.OK && latency < probeTimeoutNanos, latency);
    }
}
