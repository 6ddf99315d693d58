/**
 * Card health and the policies that turn it into queue maps.
 *
 * <p>{@link dev.braid.ha.CardHealth} (one per card, held by {@link dev.braid.ha.HealthMonitor}) runs
 * UP → SUSPECT → DOWN → PROBING → UP from explicit inputs and an explicit {@code nowNanos}.
 * {@link dev.braid.ha.CardPool} records each card's queue count, health, membership and priority.
 * A {@link dev.braid.ha.MapPolicy} ({@link dev.braid.ha.ActivePassivePolicy},
 * {@link dev.braid.ha.ActiveActivePolicy}) repairs the map at once when cards become unusable and
 * plans drained moves ({@link dev.braid.ha.RebalancePlan}) between usable cards.
 * {@link dev.braid.ha.HaController} is the Agrona agent that ties it together and publishes maps.
 * Nothing here reads a wall clock, so simulation and threaded mode run the same code.
 */
package dev.braid.ha;
