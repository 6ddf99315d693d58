package dev.braid.aggregator;

import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.CardPool;
import dev.braid.ha.FailoverLog;
import dev.braid.ha.HaController;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.HealthState;
import dev.braid.ha.MapPolicy;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.QueueMap;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One virtio device served by several cards: the guest queues' {@link FrontQueue}s, one
 * {@link CardWorker} per card queue, the HA controller and the control plane, wired together.
 *
 * <p>It forces no threading model. {@link #agents()} lists every agent; a deterministic scheduler
 * can run them on one thread, or {@link AgentThreads} can run them on real threads. Cards added
 * later bring new workers, announced to the consumer given to {@link Builder#onAgentAdded}.
 *
 * <p>{@code C} is the device's card type: every card is one, and every handler takes one, so no
 * handler needs to ask what card it was given.
 *
 * <p>Control channels: the probe channel (id = guest queue count, answers to the control plane),
 * then those added with {@link Builder#controlChannel} ({@link #controlChannel(int)} gives their ids).
 */
public final class AggregatedDevice<C extends Card>
{
    private final NanoClock clock;
    private final AggregatorContext context;
    private final CardPort<C>[] ports;
    private final FrontQueue[] frontQueues;
    private final RequestHandler<? super C>[] handlers;
    private final ControlHandler<? super C>[] controls;
    private final DeviceCompletionSink sink;
    private final HaController ha;
    private final ControlAgent control;
    private final FailoverTracker failovers;
    private final List<Agent> agents = new ArrayList<>();
    private final Consumer<Agent> onAgentAdded;
    private final int workerCapacity;

    @SuppressWarnings("unchecked")
    private AggregatedDevice(final Builder<C> builder)
    {
        context = builder.context.validate();
        clock = builder.clock;
        onAgentAdded = builder.onAgentAdded;
        final int maxCards = builder.maxCards;
        final int guestQueues = builder.queues.length;
        ports = (CardPort<C>[])new CardPort<?>[maxCards];
        frontQueues = new FrontQueue[guestQueues];
        handlers = builder.handlers.clone();
        failovers = new FailoverTracker(maxCards);

        final int channels = 1 + builder.controlHandlers.size();
        final ManyToOneCompletionRing[] rings = new ManyToOneCompletionRing[guestQueues + channels];
        final ManyToOneCompletionRing probeRing = new ManyToOneCompletionRing(FrontQueue.ringCapacity(maxCards * 4));
        controls = (ControlHandler<? super C>[])new ControlHandler<?>[channels];
        rings[guestQueues] = probeRing;
        controls[0] = builder.probeHandler;
        for (int i = 1; i < channels; i++)
        {
            controls[i] = builder.controlHandlers.get(i - 1);
            rings[guestQueues + i] = builder.controlAnswers.get(i - 1);
        }
        sink = new DeviceCompletionSink(rings);

        final CardPool pool = new CardPool(maxCards);
        final long now = clock.nanoTime();
        for (int i = 0; i < builder.cards.size(); i++)
        {
            pool.add(i, builder.cards.get(i).queueCount(), HealthState.UP, now);
        }
        final ControlAgent.ProbeRequests probeRequests = new ControlAgent.ProbeRequests(maxCards);
        ha = new HaController(clock, builder.healthConfig, pool, builder.mapPolicy, builder.allDownPolicy, probeRequests, 256);
        // A probe is held to the bar a request is: one slower than the completion timeout fails.
        final long probeTimeout = Math.min(builder.probeTimeoutNanos, builder.healthConfig.completionTimeoutNanos());
        control = new ControlAgent(ha, probeRequests, ports, frontQueues, failovers, clock, probeRing, probeTimeout,
            builder.controlPlaneListener);

        final HealthReporter reporter = new HealthReporter()
        {
            public void onSuccess(final int card, final long nowNanos)
            {
                ha.onSuccess(card);
            }

            public void onError(final int card, final long nowNanos)
            {
                ha.onError(card);
            }

            public void onOldestInflightAge(final int card, final long ageNanos, final long nowNanos)
            {
                if (ports[card] != null && !ports[card].isRemoved())
                {
                    ha.onOldestInflightAge(card, ageNanos);
                }
            }
        };
        final DrainCoordinator drains = new DrainCoordinator()
        {
            public long pendingDrain()
            {
                return ha.pendingDrain();
            }

            public boolean drained(final long ticket)
            {
                return ha.onGuestQueueDrained(ticket);
            }
        };

        int maxCardQueues = 1;
        for (final C card : builder.cards)
        {
            maxCardQueues = Math.max(maxCardQueues, card.queueCount());
        }
        for (int g = 0; g < guestQueues; g++)
        {
            final DeviceQueue queue = builder.queues[g];
            frontQueues[g] = new FrontQueue(
                g, queue, builder.handlers[g], ha.publisher(),
                builder.dispatchPolicy.newSelector(maxCards, Math.max(maxCardQueues, 64), builder.seed + g),
                ports, builder.interrupts, clock, reporter, failovers, drains, context);
            rings[g] = frontQueues[g].completions();
        }

        long capacity = 0;
        for (final DeviceQueue queue : builder.queues)
        {
            capacity += queue.size();
        }
        workerCapacity = RingCapacity.powerOfTwoAtLeast(Math.max(context.cardQueueBacklog(), capacity + maxCards * 4L));

        agents.add(control); // runs the controller too: never list ha on its own
        for (final FrontQueue front : frontQueues)
        {
            agents.add(front);
        }
        for (int i = 0; i < builder.cards.size(); i++)
        {
            attach(i, builder.cards.get(i));
        }
    }

    /** A builder for a device over cards of type {@code C}: {@code AggregatedDevice.<BlockCard>builder()}. */
    public static <C extends Card> Builder<C> builder()
    {
        return new Builder<>();
    }

    private List<Agent> attach(final int index, final C card)
    {
        final CardPort<C> port = new CardPort<>(index, card, workerCapacity, sink);
        final List<Agent> added = new ArrayList<>();
        for (int q = 0; q < card.queueCount(); q++)
        {
            final CardWorker<C> worker = new CardWorker<>(
                port, q, handlers, controls, sink, workerCapacity, context.batchSize(), context.cardWaitNanos());
            added.add(worker);
            agents.add(worker);
        }
        card.setEventListener(new CardEventListener()
        {
            public void onLinkChange(final Card c, final boolean up)
            {
                while (!ha.onLinkChange(index, up))
                {
                    Thread.onSpinWait();
                }
            }

            public void onCardError(final Card c, final int code)
            {
                ha.onError(index);
            }
        });
        ports[index] = port;
        return added;
    }

    /**
     * Every agent of the device, in a stable order: the control conductor (the HA controller and
     * the control plane as one agent, which must stay on one thread), front queues, card workers.
     * The controller is not listed on its own: {@link #controller()} is for reading, not scheduling.
     */
    public List<Agent> agents()
    {
        return List.copyOf(agents);
    }

    /**
     * Adds a card to the pool while I/O runs. Its workers are announced to the builder's
     * onAgentAdded consumer; the controller rebalances guest queues onto it by drained moves.
     *
     * @return the card's index.
     */
    public int hotAdd(final C card)
    {
        int index = -1;
        for (int i = 0; i < ports.length; i++)
        {
            if (ports[i] == null)
            {
                index = i;
                break;
            }
        }
        if (index < 0)
        {
            throw new IllegalStateException("no room for another card: max cards is " + ports.length);
        }
        for (final Agent agent : attach(index, card))
        {
            onAgentAdded.accept(agent);
        }
        while (!ha.hotAdd(index, card.queueCount()))
        {
            Thread.onSpinWait();
        }
        return index;
    }

    /** Drains the card, then drops it; its queues move to the others. */
    public void hotRemove(final int card)
    {
        while (!ha.hotRemove(card))
        {
            Thread.onSpinWait();
        }
    }

    /** Asks an active-passive device with manual failback to move back to its preferred card. */
    public void failback()
    {
        while (!ha.failback())
        {
            Thread.onSpinWait();
        }
    }

    public int guestQueueCount()
    {
        return frontQueues.length;
    }

    public FrontQueue frontQueue(final int guestQueue)
    {
        return frontQueues[guestQueue];
    }

    /**
     * The token guest-queue id of control channel {@code channel} added with
     * {@link Builder#controlChannel} (0 = the first one added).
     */
    public int controlChannel(final int channel)
    {
        if (channel < 0 || channel + 1 >= controls.length)
        {
            throw new IllegalArgumentException("no control channel " + channel + ": " + (controls.length - 1) + " added");
        }
        return frontQueues.length + 1 + channel;
    }

    public CardPort<C> port(final int card)
    {
        return ports[card];
    }

    public int maxCards()
    {
        return ports.length;
    }

    /**
     * The HA controller, for its any-thread API (intake, publisher, log). Its "controller thread
     * only" methods belong to the control conductor's thread: do not call them while the device runs.
     */
    public HaController controller()
    {
        return ha;
    }

    public QueueMap currentMap()
    {
        return ha.publisher().current();
    }

    public FailoverLog failoverLog()
    {
        return ha.failoverLog();
    }

    public FailoverTracker failovers()
    {
        return failovers;
    }

    /** The card's health as the controller last set it, or null for a card not in the pool. Any thread. */
    public HealthState health(final int card)
    {
        return ha.healthOf(card);
    }

    public NanoClock clock()
    {
        return clock;
    }

    /** Collects everything needed to build a device; {@link #build()} validates it. */
    public static final class Builder<C extends Card>
    {
        private NanoClock clock = SystemNanoClock.INSTANCE;
        private AggregatorContext context = new AggregatorContext();
        private final List<C> cards = new ArrayList<>();
        private int maxCards = 8;
        private DeviceQueue[] queues;
        private RequestHandler<? super C>[] handlers;
        private ControlHandler<? super C> probeHandler;
        private final List<ControlHandler<? super C>> controlHandlers = new ArrayList<>();
        private final List<ManyToOneCompletionRing> controlAnswers = new ArrayList<>();
        private MapPolicy mapPolicy;
        private HealthConfig healthConfig = new HealthConfig();
        private AllDownPolicy allDownPolicy = AllDownPolicy.queueUntilDeadline(5_000_000_000L);
        private DispatchPolicy dispatchPolicy = DispatchPolicy.defaultPolicy();
        private InterruptSink interrupts = q -> {};
        private Consumer<Agent> onAgentAdded = a -> {};
        private long seed = 1;
        private long probeTimeoutNanos = 50_000_000L;
        private ControlPlaneListener controlPlaneListener = ControlPlaneListener.NONE;

        public Builder<C> clock(final NanoClock clock)
        {
            this.clock = clock;
            return this;
        }

        public Builder<C> context(final AggregatorContext context)
        {
            this.context = context;
            return this;
        }

        public Builder<C> card(final C card)
        {
            cards.add(card);
            return this;
        }

        public Builder<C> maxCards(final int maxCards)
        {
            this.maxCards = maxCards;
            return this;
        }

        /** The guest queues and one request handler for each. */
        public Builder<C> queues(final DeviceQueue[] queues, final RequestHandler<? super C>[] handlers)
        {
            this.queues = queues.clone();
            this.handlers = handlers.clone();
            return this;
        }

        /** The handler that probes a card coming back (slot = card index); its answers go to the control plane. */
        public Builder<C> probeHandler(final ControlHandler<? super C> probeHandler)
        {
            this.probeHandler = probeHandler;
            return this;
        }

        /**
         * Adds a control channel (scsi: task management): its requests go through each card's control
         * ring to card queue 0, and what the cards answer, through their gates, into {@code answers}.
         * Channel ids in the order added: {@link AggregatedDevice#controlChannel(int)}.
         */
        public Builder<C> controlChannel(final ControlHandler<? super C> handler, final ManyToOneCompletionRing answers)
        {
            controlHandlers.add(handler);
            controlAnswers.add(answers);
            return this;
        }

        /**
         * How long a probe may take (default 50 ms); a probe at or past it fails. The device uses
         * at most the health config's completion timeout: a card too slow for requests fails probes.
         */
        public Builder<C> probeTimeoutNanos(final long probeTimeoutNanos)
        {
            this.probeTimeoutNanos = probeTimeoutNanos;
            return this;
        }

        public Builder<C> mapPolicy(final MapPolicy mapPolicy)
        {
            this.mapPolicy = mapPolicy;
            return this;
        }

        public Builder<C> healthConfig(final HealthConfig healthConfig)
        {
            this.healthConfig = healthConfig;
            return this;
        }

        /**
         * What requests do when no card is usable: wait up to a deadline, or fail at once. It sets
         * the context's no-path timeout at {@link #build()}, whichever context is given.
         */
        public Builder<C> allDownPolicy(final AllDownPolicy allDownPolicy)
        {
            this.allDownPolicy = allDownPolicy;
            return this;
        }

        public Builder<C> dispatchPolicy(final DispatchPolicy dispatchPolicy)
        {
            this.dispatchPolicy = dispatchPolicy;
            return this;
        }

        public Builder<C> interrupts(final InterruptSink interrupts)
        {
            this.interrupts = interrupts;
            return this;
        }

        /** Device-type hooks run by the control plane (net: announce after a failover). */
        public Builder<C> controlPlaneListener(final ControlPlaneListener controlPlaneListener)
        {
            this.controlPlaneListener = controlPlaneListener;
            return this;
        }

        public Builder<C> onAgentAdded(final Consumer<Agent> onAgentAdded)
        {
            this.onAgentAdded = onAgentAdded;
            return this;
        }

        public Builder<C> seed(final long seed)
        {
            this.seed = seed;
            return this;
        }

        public AggregatedDevice<C> build()
        {
            if (queues == null || queues.length == 0)
            {
                throw new IllegalArgumentException("an aggregated device needs at least one guest queue");
            }
            if (queues.length != handlers.length)
            {
                throw new IllegalArgumentException("one request handler per guest queue: " +
                    queues.length + " queues, " + handlers.length + " handlers");
            }
            if (cards.isEmpty())
            {
                throw new IllegalArgumentException("an aggregated device needs at least one card");
            }
            if (maxCards < cards.size() || maxCards > 64)
            {
                throw new IllegalArgumentException("max cards must be " + cards.size() + "..64: " + maxCards);
            }
            if (mapPolicy == null)
            {
                throw new IllegalArgumentException("a map policy (active-active or active-passive) is required");
            }
            if (probeHandler == null)
            {
                throw new IllegalArgumentException("a probe handler is required");
            }
            healthConfig.validate();
            // Derived here, not in the setter: the deadline holds whatever order context() came in.
            context.noPathTimeoutNanos(
                allDownPolicy.mode() == AllDownPolicy.Mode.FAIL_FAST ? 0 : allDownPolicy.deadlineNanos());
            return new AggregatedDevice<>(this);
        }
    }
}
