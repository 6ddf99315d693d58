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
 * The control plane that runs beside the {@link HaController}, on its thread: it turns health
 * states into fencing, sends probes to cards that are coming back, and drops hot-removed cards
 * once nothing of theirs is in flight.
 *
 * <p>Fencing follows health, never the other way round: a card that is DOWN is fenced before any
 * front queue may replay its requests (replay waits for the fence generation to move); a card
 * that is PROBING or UP is unfenced so that probes and then traffic can reach it.
 */
final class ControlAgent implements Agent, ProbeRequester, CompletionHandler
{
    private HaController ha;
    private final CardPort[] ports;
    private final FrontQueue[] frontQueues;
    private final FailoverTracker failovers;
    private final NanoClock clock;
    private final ManyToOneCompletionRing probeCompletions;
    private final int probeQueue;
    private final long probeTimeoutNanos;
    private final boolean[] probeWanted;
    private final int[] probeAttempt;
    private final long[] probeSentAt;
    private final boolean[] probeOutstanding;
    private final ControlPlaneListener listener;

    ControlAgent(
        final CardPort[] ports,
        final FrontQueue[] frontQueues,
        final FailoverTracker failovers,
        final NanoClock clock,
        final ManyToOneCompletionRing probeCompletions,
        final long probeTimeoutNanos,
        final ControlPlaneListener listener)
    {
        this.listener = listener;
        this.ports = ports;
        this.frontQueues = frontQueues;
        this.failovers = failovers;
        this.clock = clock;
        this.probeCompletions = probeCompletions;
        this.probeQueue = frontQueues.length;
        this.probeTimeoutNanos = probeTimeoutNanos;
        probeWanted = new boolean[ports.length];
        probeAttempt = new int[ports.length];
        probeSentAt = new long[ports.length];
        probeOutstanding = new boolean[ports.length];
    }

    /** Set once, right after the controller is built (it needs this agent as its prober). */
    void controller(final HaController ha)
    {
        this.ha = ha;
    }

    public String roleName()
    {
        return "braid-control";
    }

    /** Called by the controller (same thread) when a PROBING card is due for a probe. */
    public void requestProbe(final int card)
    {
        probeWanted[card] = true;
    }

    public int doWork()
    {
        final long now = clock.nanoTime();
        int work = probeCompletions.drain(this, 64);
        for (final CardPort port : ports)
        {
            if (port == null || port.isRemoved())
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
            if (!front.handler().isPull() && front.outstanding(card) != 0)
            {
                return false;
            }
        }
        return true;
    }

    private int serviceProbe(final CardPort port, final long now)
    {
        final int card = port.index();
        if (probeOutstanding[card])
        {
            if (now - probeSentAt[card] >= probeTimeoutNanos)
            {
                probeOutstanding[card] = false;
                probeAttempt[card]++;
                ha.onProbeResult(card, false);
                return 1;
            }
            return 0;
        }
        if (!probeWanted[card] || port.isFenced())
        {
            return 0;
        }
        final long token = CompletionToken.encode(probeQueue, card, port.fenceGeneration(), probeAttempt[card]);
        if (port.submissionRing(0).offer(token))
        {
            probeWanted[card] = false;
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
        ha.onProbeResult(card, status == CardStatus.OK);
    }
}
