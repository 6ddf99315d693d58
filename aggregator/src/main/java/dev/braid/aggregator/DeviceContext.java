package dev.braid.aggregator;

import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.Aggregation;
import dev.braid.ha.HealthConfig;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What every Braid device is made of, in the style of Aeron's {@code MediaDriver.Context}: fluent
 * setters, then one {@link #conclude()} (the device's constructor calls it) that fills the defaults,
 * validates and throws with a one-line message naming the bad value. A concluded context is frozen:
 * a setter called after it throws, so a value can never be silently dropped by the order of calls.
 * Each device type extends it with its own settings ({@code VirtioBlkDevice.Context}, ...).
 *
 * <p>Only {@link #memory} and {@link #cards} are required here (net adds its MAC). Interrupt sinks, the activation hooks
 * and the agent-added hook default to doing nothing, the clock to the system clock.
 *
 * @param <C> the concrete context, returned by every setter.
 * @param <K> the card type of the device.
 */
public abstract class DeviceContext<C extends DeviceContext<C, K>, K extends Card>
{
    /** The largest queue size virtio allows. */
    public static final int MAX_QUEUE_SIZE = 32768;
    /** The most cards a device may ever hold (pool and token limits). */
    public static final int MAX_CARDS = 64;
    /** Cards a device makes room for by default, so that a few can be hot-added. */
    public static final int DEFAULT_MAX_CARDS = 8;

    private boolean concluded;
    private GuestMemory memory;
    private List<K> cards = List.of();
    private int queueMaxSize = 256;
    private Aggregation aggregation;
    private HealthConfig health = new HealthConfig();
    private AllDownPolicy allDown = AllDownPolicy.queueUntilDeadline(5_000_000_000L);
    private InterruptSink interrupts = q -> {};
    private Runnable configInterrupt = () -> {};
    private Consumer<List<Agent>> onActivate = agents -> {};
    private Runnable onDeactivate = () -> {};
    private Consumer<Agent> onAgentAdded = agent -> {};
    private NanoClock clock = SystemNanoClock.INSTANCE;
    private long seed = 1;
    private int maxCards;
    private long probeTimeoutNanos = 50_000_000L;
    private boolean maxSegmentsSet;
    private int maxSegments;
    private final AggregatorContext tunables = new AggregatorContext();
    private final int defaultMaxSegments;
    private final Aggregation defaultAggregation;

    /**
     * @param defaultMaxSegments the device type's max segments when none is set.
     * @param defaultAggregation the device type's aggregation when none is set.
     */
    protected DeviceContext(final int defaultMaxSegments, final Aggregation defaultAggregation)
    {
        this.defaultMaxSegments = defaultMaxSegments;
        this.defaultAggregation = defaultAggregation;
    }

    @SuppressWarnings("unchecked")
    protected final C self()
    {
        return (C)this;
    }

    /** Throws IllegalStateException once concluded: set everything before the device is built. */
    protected final C set()
    {
        if (concluded)
        {
            throw new IllegalStateException("the context is concluded (a device was built from it): set values before");
        }
        return self();
    }

    private DeviceContext<C, K> open()
    {
        set();
        return this;
    }

    /** Guest memory, owned by the VMM. Required. */
    public C memory(final GuestMemory memory)
    {
        open().memory = memory;
        return self();
    }

    /** The cards serving the device, highest priority first (active-passive serves on the first). Required. */
    public C cards(final List<? extends K> cards)
    {
        open().cards = cards == null ? null : new ArrayList<>(cards);
        return self();
    }

    /** The largest size the driver may give each queue (1..32768, default 256). */
    public C queueMaxSize(final int queueMaxSize)
    {
        open().queueMaxSize = queueMaxSize;
        return self();
    }

    /** How the cards share the guest queues; the device type's default when not set. */
    public C aggregation(final Aggregation aggregation)
    {
        open().aggregation = aggregation;
        return self();
    }

    public C health(final HealthConfig health)
    {
        open().health = health;
        return self();
    }

    /**
     * What requests do when no card can take them: wait up to the deadline (counted from a
     * request's first trouble), or fail at once. The only source of the no-path timeout.
     */
    public C allDown(final AllDownPolicy allDown)
    {
        open().allDown = allDown;
        return self();
    }

    /** Queue interrupts, by virtio queue index. */
    public C interrupts(final InterruptSink interrupts)
    {
        open().interrupts = interrupts;
        return self();
    }

    /** The config-change interrupt (DEVICE_NEEDS_RESET, net announce). */
    public C configInterrupt(final Runnable configInterrupt)
    {
        open().configInterrupt = configInterrupt;
        return self();
    }

    /** Receives the agents to run when the driver sets DRIVER_OK. */
    public C onActivate(final Consumer<List<Agent>> onActivate)
    {
        open().onActivate = onActivate;
        return self();
    }

    /** Stops them again (device reset), before the cards are fenced. */
    public C onDeactivate(final Runnable onDeactivate)
    {
        open().onDeactivate = onDeactivate;
        return self();
    }

    /** Receives the workers of a card hot-added while the device runs. */
    public C onAgentAdded(final Consumer<Agent> onAgentAdded)
    {
        open().onAgentAdded = onAgentAdded;
        return self();
    }

    /** The clock health and timeouts run on: the system clock, or a deterministic runner's virtual one. */
    public C clock(final NanoClock clock)
    {
        open().clock = clock;
        return self();
    }

    /** Seeds the selectors' tie-breaks (guest queue g uses seed + g). */
    public C seed(final long seed)
    {
        open().seed = seed;
        return self();
    }

    /** Most cards the device will ever hold, hot-adds included (cards.size()..64, default max(8, cards)). */
    public C maxCards(final int maxCards)
    {
        open().maxCards = maxCards;
        return self();
    }

    /** How long a probe may take (default 50 ms); the device uses at most the completion timeout. */
    public C probeTimeoutNanos(final long probeTimeoutNanos)
    {
        open().probeTimeoutNanos = probeTimeoutNanos;
        return self();
    }

    /**
     * Most data segments one request may have: blk and scsi seg_max, net the segments of one rx or
     * tx chain a card is handed (1..32768; defaults blk and scsi 128, net 64).
     */
    public C maxSegments(final int maxSegments)
    {
        open().maxSegments = maxSegments;
        this.maxSegmentsSet = true;
        return self();
    }

    /** Most chains popped, or completions drained, per duty cycle (1..65536, default 64). */
    public C batchSize(final int batchSize)
    {
        open().tunables.batchSize(batchSize);
        return self();
    }

    /** Attempts after which a request that keeps failing on every path fails with IOERR. */
    public C maxAttempts(final int maxAttempts)
    {
        open().tunables.maxAttempts(maxAttempts);
        return self();
    }

    /** Capacity of each card queue's submission ring and worker backlog. */
    public C cardQueueBacklog(final int cardQueueBacklog)
    {
        open().tunables.cardQueueBacklog(cardQueueBacklog);
        return self();
    }

    /**
     * How long an idle agent thread may sleep in a card that has requests outstanding and nothing to
     * report, until its first completion (a file card's io_uring_enter), instead of spinning or backing
     * off (0..10 ms, 0 never; default 100 µs, the back-off's longest park). It also bounds how long a
     * fence on another thread, and whatever else the thread runs, may wait for the sleep to end.
     */
    public C cardWaitNanos(final long cardWaitNanos)
    {
        open().tunables.cardWaitNanos(cardWaitNanos);
        return self();
    }

    /** How often each front queue reports the age of its oldest request per card. */
    public C ageReportIntervalNanos(final long ageReportIntervalNanos)
    {
        open().tunables.ageReportIntervalNanos(ageReportIntervalNanos);
        return self();
    }

    /**
     * Fills the defaults and validates; IllegalArgumentException naming the first bad value. Called
     * by the device's constructor; calling it again does nothing, and no setter works after it.
     */
    public final C conclude()
    {
        if (concluded)
        {
            return self();
        }
        require(memory != null, "memory is required: null");
        require(cards != null && !cards.isEmpty(), "a device needs at least one card: " + cards);
        for (int i = 0; i < cards.size(); i++)
        {
            require(cards.get(i) != null, "card " + i + " is null");
        }
        require(queueMaxSize >= 1 && queueMaxSize <= MAX_QUEUE_SIZE,
            "queue max size must be 1.." + MAX_QUEUE_SIZE + ": " + queueMaxSize);
        if (maxCards == 0)
        {
            maxCards = Math.max(DEFAULT_MAX_CARDS, cards.size());
        }
        require(maxCards >= cards.size() && maxCards <= MAX_CARDS,
            "max cards must be " + cards.size() + ".." + MAX_CARDS + ": " + maxCards);
        if (aggregation == null)
        {
            aggregation = defaultAggregation;
        }
        require(health != null, "health config is required: null");
        health.validate();
        require(allDown != null, "all-down policy is required: null");
        require(interrupts != null && configInterrupt != null, "interrupt sinks must not be null");
        require(onActivate != null && onDeactivate != null && onAgentAdded != null, "hooks must not be null");
        require(clock != null, "clock is required: null");
        require(probeTimeoutNanos > 0, "probe timeout must be > 0 ns: " + probeTimeoutNanos);
        if (!maxSegmentsSet)
        {
            maxSegments = defaultMaxSegments;
        }
        require(maxSegments >= 1 && maxSegments <= 32768, "max segments must be 1..32768: " + maxSegments);
        tunables.noPathTimeoutNanos(allDown.mode() == AllDownPolicy.Mode.FAIL_FAST ? 0 : allDown.deadlineNanos());
        concludeDevice();
        tunables.validate();
        concluded = true;
        return self();
    }

    /** Validates (and defaults) the device type's own settings, and refuses an aggregation it cannot use. */
    protected abstract void concludeDevice();

    /** Throws IllegalArgumentException with {@code message} unless {@code condition}. */
    protected static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    public final boolean isConcluded()
    {
        return concluded;
    }

    public final GuestMemory memory()
    {
        return memory;
    }

    public final List<K> cards()
    {
        return List.copyOf(cards);
    }

    public final int queueMaxSize()
    {
        return queueMaxSize;
    }

    public final Aggregation aggregation()
    {
        return aggregation;
    }

    public final HealthConfig health()
    {
        return health;
    }

    public final AllDownPolicy allDown()
    {
        return allDown;
    }

    public final InterruptSink interrupts()
    {
        return interrupts;
    }

    public final Runnable configInterrupt()
    {
        return configInterrupt;
    }

    public final Consumer<List<Agent>> onActivate()
    {
        return onActivate;
    }

    public final Runnable onDeactivate()
    {
        return onDeactivate;
    }

    public final NanoClock clock()
    {
        return clock;
    }

    public final int maxSegments()
    {
        return maxSegments;
    }

    public final long seed()
    {
        return seed;
    }

    public final int maxCards()
    {
        return maxCards;
    }

    /** The aggregated device's tunables, the no-path timeout taken from the all-down policy. */
    protected final AggregatorContext tunables()
    {
        return tunables;
    }

    /**
     * An aggregated device builder carrying everything this context says (cards, clock, seed, max
     * cards, both policies from the aggregation, health, all-down, tunables, hooks). The device
     * type adds its queues, handlers, probe handler and interrupts. Only on a concluded context.
     *
     * @param guestQueues how many front queues the map policy is made for.
     */
    public final AggregatedDevice.Builder deviceBuilder(final int guestQueues)
    {
        if (!concluded)
        {
            throw new IllegalStateException("conclude() the context first");
        }
        final AggregatedDevice.Builder builder = AggregatedDevice.builder()
            .clock(clock).seed(seed).maxCards(maxCards).context(tunables)
            .mapPolicy(aggregation.newMapPolicy(guestQueues)).dispatchPolicy(aggregation.dispatchPolicy())
            .healthConfig(health).allDownPolicy(allDown).probeTimeoutNanos(probeTimeoutNanos)
            .onAgentAdded(onAgentAdded);
        for (final K card : cards)
        {
            builder.card(card);
        }
        return builder;
    }
}
