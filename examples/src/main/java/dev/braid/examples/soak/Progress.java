package dev.braid.examples.soak;

/** Receives a snapshot about four times a second while a soak runs. */
@FunctionalInterface
public interface Progress
{
    Progress NONE = (elapsed, total, iops, inFlight, failovers, cards) -> {};

    /**
     * @param elapsedNanos time run so far (virtual in deterministic mode).
     * @param totalNanos   planned run time, 0 when bounded by a request count.
     * @param cardStates   one letter per card: U(p), S(uspect), D(own), P(robing), - (not in the pool).
     */
    void update(long elapsedNanos, long totalNanos, double iops, long inFlight, int failovers, String cardStates);
}
