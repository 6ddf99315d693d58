package dev.braid.examples.faults;

/**
 * One row of the fault-scenario table.
 *
 * @param result PASS, FAIL, or PENDING (not run: the device path it needs is not there yet).
 */
public record ScenarioResult(String name, String result, long stallP50Nanos, long stallMaxNanos, long requests, String note)
{
    public boolean passed()
    {
        return "PASS".equals(result);
    }

    public boolean failed()
    {
        return "FAIL".equals(result);
    }
}
