package dev.braid.sim;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.List;

/** Applies a {@link FaultSchedule} as its events fall due on the clock. */
public final class FaultScheduleAgent implements Agent, TimerSource
{
    private final List<FaultEvent> events;
    private final NanoClock clock;
    private int next;

    public FaultScheduleAgent(final FaultSchedule schedule, final NanoClock clock)
    {
        this.events = schedule.events();
        this.clock = clock;
    }

    public int doWork()
    {
        final long now = clock.nanoTime();
        int work = 0;
        while (next < events.size() && events.get(next).atNanos() <= now)
        {
            events.get(next++).apply();
            work++;
        }
        return work;
    }

    public String roleName()
    {
        return "fault-schedule";
    }

    public long nextEventNanos()
    {
        return next < events.size() ? events.get(next).atNanos() : NONE;
    }

    /** Events applied so far. */
    public int applied()
    {
        return next;
    }

    public boolean isDone()
    {
        return next == events.size();
    }
}
