package dev.braid.examples.soak;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Map;

/**
 * What one soak run measured and the verdict of each invariant. Times are nanos on the run's clock
 * (virtual in deterministic mode).
 */
public final class SoakResult
{
    /** Per-card totals at the end of the run. */
    public record CardStats(String name, long submitted, long completed, long errors, long served, String health, String fault)
    {
    }

    public SoakConfig config;
    public String kind;
    public long runNanos;
    public long wallNanos;
    public long quiesceNanos;
    public boolean quiesced;
    public long requestsCompleted;
    public long checked;
    public String detail;
    public Histogram latency;
    public List<Failover> failovers;
    public List<Transition> transitions;
    public List<FaultMark> faults;
    public List<CardStats> cards;
    public long intervalNanos;
    public long[] intervalCompletions;
    public long[][] intervalPerCard;
    public long staleDropped;
    public long replayed;
    public long failedNoPath;
    public long interrupts;
    public long epochStart;
    public long epochEnd;
    public boolean allDownInSchedule;
    public String agentFailure;

    public long lost;
    public long duplicated;
    public long corrupted;
    public long leaked;
    public long guestErrors;
    /** Whether per-guest-queue write order was checked (queue-affine blk); else outOfOrder means nothing. */
    public boolean orderChecked;
    public long outOfOrder;
    public long orderedWrites;
    /** Writes stranded by a fence and replayed after later-posted ones: order across a failover is not promised. */
    public long orderExcused;
    /** Whether a reference model ({@link GuestModel}) watched the guests' queues. */
    public boolean modelChecked;
    /** Guest-visible events the reference model refused (see {@link GuestModel}). */
    public long model;
    /** Units the model checked (sectors read, replies). */
    public long modelUnits;
    /** The first few model violations, described. */
    public List<String> modelFirst = List.of();
    /** Kind-specific counters (net: wire_lost_replies...), reported as they are, never a verdict by themselves. */
    public Map<String, Long> extra = Map.of();

    public double iops()
    {
        return runNanos <= 0 ? 0 : requestsCompleted * 1e9 / runNanos;
    }

    public long percentileNanos(final double percentile)
    {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile);
    }

    public long maxNanos()
    {
        return latency.getTotalCount() == 0 ? 0 : latency.getMaxValue();
    }

    public long maxStallNanos()
    {
        long max = -1;
        for (final Failover f : failovers)
        {
            max = Math.max(max, f.stallNanos());
        }
        return max;
    }

    public Verdict lostVerdict()
    {
        return lost == 0 && quiesced ? Verdict.PASS : Verdict.FAIL;
    }

    public Verdict duplicatedVerdict()
    {
        return duplicated == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    public Verdict corruptedVerdict()
    {
        return corrupted == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    public Verdict leakedVerdict()
    {
        return leaked == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    /** Per-queue write order as the cards saw it; checked only where the kind and mode promise it. */
    public Verdict outOfOrderVerdict()
    {
        if (!orderChecked)
        {
            return Verdict.NOT_CHECKED;
        }
        return outOfOrder == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    /** The reference model: each posted request completes once; what comes back is allowed. */
    public Verdict modelVerdict()
    {
        if (!modelChecked)
        {
            return Verdict.NOT_CHECKED;
        }
        return model == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    /** Guest errors count only when at least one card was up all along. */
    public Verdict errorsVerdict()
    {
        if (allDownInSchedule)
        {
            return Verdict.NOT_CHECKED;
        }
        return guestErrors == 0 ? Verdict.PASS : Verdict.FAIL;
    }

    public Verdict agentsVerdict()
    {
        return agentFailure == null ? Verdict.PASS : Verdict.FAIL;
    }

    /** True when no checked invariant failed (NOT_CHECKED does not fail a run, nor count as a pass). */
    public boolean invariantsOk()
    {
        for (final Verdict v : List.of(lostVerdict(), duplicatedVerdict(), corruptedVerdict(), leakedVerdict(),
            modelVerdict(), outOfOrderVerdict(), errorsVerdict(), agentsVerdict()))
        {
            if (v == Verdict.FAIL)
            {
                return false;
            }
        }
        return true;
    }

    /** One line naming what broke, for sweeps and test messages. */
    /** Whether {@code card} failed over, for {@code reason} (null: any reason). */
    public boolean hasFailover(final int card, final dev.braid.ha.TransitionReason reason)
    {
        for (final Failover f : failovers)
        {
            if (f.card() == card && (reason == null || f.reason() == reason))
            {
                return true;
            }
        }
        return false;
    }

    /** Each failover as cardN:REASON, comma-separated; {@code none} when there was none. */
    public String failoverReasons(final String none)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Failover f : failovers)
        {
            sb.append(sb.length() == 0 ? "" : ",").append("card").append(f.card()).append(':').append(f.reason());
        }
        return sb.length() == 0 ? none : sb.toString();
    }

    public String summary()
    {
        return "lost=" + lost + (quiesced ? "" : " (not quiesced)") + " duplicated=" + duplicated + " corrupted=" +
            corrupted + " leaked=" + leaked + (modelChecked ? " model=" + model : "") +
            (orderChecked ? " outOfOrder=" + outOfOrder : "") + " guestErrors=" + guestErrors + (allDownInSchedule ? "(all-down)" : "") +
            " completed=" + requestsCompleted + " failovers=" + failovers.size() +
            (agentFailure != null ? " agentFailure=" + agentFailure : "");
    }
}
