package dev.braid.aggregator;

/**
 * Health inputs that front queues observe per card: successes, path errors and the age of the
 * oldest request still on the card. Implementations must accept calls from several threads
 * without allocating.
 */
public interface HealthReporter
{
    HealthReporter NONE = new HealthReporter()
    {
        public void onSuccess(final int card, final long nowNanos)
        {
        }

        public void onError(final int card, final long nowNanos)
        {
        }

        public void onOldestInflightAge(final int card, final long ageNanos, final long nowNanos)
        {
        }
    };

    void onSuccess(int card, long nowNanos);

    void onError(int card, long nowNanos);

    /** The oldest request this reporter's queue has on {@code card} is {@code ageNanos} old (0: none). */
    void onOldestInflightAge(int card, long ageNanos, long nowNanos);
}
