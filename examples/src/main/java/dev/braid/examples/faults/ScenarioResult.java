package dev.braid.examples.faults;

import dev.braid.examples.soak.SoakReport;
import dev.braid.examples.soak.SoakResult;

/**
 * One row of the fault-scenario table.
 *
 * @param result PASS, FAIL, or PENDING (not run: the device path it needs is not there yet).
 */
public record ScenarioResult(String name, String result, long stallP50Nanos, long stallMaxNanos, long requests, String note)
{
    /**
     * The row of a scenario run: PASS when the soak invariants held and the scenario's own
     * {@code claim} did; a broken invariant adds the summary and the model's first violation.
     */
    public static ScenarioResult of(final String name, final SoakResult r, final boolean claim, final String note)
    {
        final long[] stalls = SoakReport.stalls(r.failovers);
        final long p50 = stalls.length == 0 ? -1 : stalls[(stalls.length - 1) / 2];
        final long max = stalls.length == 0 ? -1 : stalls[stalls.length - 1];
        final boolean ok = r.invariantsOk() && claim;
        return new ScenarioResult(name, ok ? "PASS" : "FAIL", p50, max, r.requestsCompleted,
            note + (r.invariantsOk() ? "" : "; invariants: " + r.summary() +
            (r.modelFirst.isEmpty() ? "" : "; first model violation: " + r.modelFirst.get(0))));
    }

    public boolean passed()
    {
        return "PASS".equals(result);
    }

    public boolean failed()
    {
        return "FAIL".equals(result);
    }
}
