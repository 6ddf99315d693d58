package dev.braid.sim;

/** A simulated card whose faults a {@link FaultSchedule} or a test can drive. Thread-safe. */
public interface FaultTarget
{
    String name();

    /**
     * Puts the card in {@code fault}, replacing any current fault. {@code param} depends on the fault:
     * <ul>
     *   <li>{@link CardFault#LINK_DOWN}: nanoseconds until the link comes back by itself; 0 = until healed.</li>
     *   <li>{@link CardFault#SLOW}: latency multiplier k (at least 1).</li>
     *   <li>{@link CardFault#ERROR_BURST}: how many of the next requests fail with IO_ERROR.</li>
     *   <li>{@link CardFault#ZOMBIE}: extra nanoseconds before a stale completion is delivered.</li>
     *   <li>{@link CardFault#FAIL_STOP}, {@link CardFault#HANG}: ignored.</li>
     *   <li>{@link CardFault#HEALTHY}: the same as {@link #heal()}.</li>
     * </ul>
     */
    void inject(CardFault fault, long param);

    /** Back to normal service, link up. Requests held by a fail-stopped card are dropped (it rebooted). */
    void heal();

    /**
     * A card that comes back after failing: {@link #heal()}. Its fence is not lifted: that is the
     * aggregator's ({@code CardPort.unfence}, once every card worker has caught up with the fence),
     * as a real path that comes back does not undo the fence its host set. A fault player on another
     * thread that unfenced here would race the port's fence: a submit caught between the fence's
     * scan and the unfence would stay pending on the card and move data after its replay.
     */
    void rejoin();

    /** The fault the card is in now. */
    CardFault fault();
}
