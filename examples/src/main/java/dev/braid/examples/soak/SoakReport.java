package dev.braid.examples.soak;

import java.util.List;
import java.util.Locale;

/** The human report and the JSON object of a {@link SoakResult}. */
public final class SoakReport
{
    private SoakReport()
    {
    }

    public static String text(final SoakResult r)
    {
        final StringBuilder sb = new StringBuilder();
        final SoakConfig c = r.config;
        sb.append("braid soak: ").append(c.describe()).append('\n');
        sb.append(String.format(Locale.ROOT, "run        %s %s (wall %s), quiesce %s%n", Specs.nanos(r.runNanos),
            c.threaded ? "real time" : "virtual time", Specs.nanos(r.wallNanos), Specs.nanos(r.quiesceNanos)));
        sb.append(String.format(Locale.ROOT, "throughput %,d requests, %,.0f IOPS; %s%n", r.requestsCompleted, r.iops(),
            r.detail));
        sb.append(String.format(Locale.ROOT, "latency    p50 %s  p99 %s  p99.9 %s  max %s (guest: post to reap)%n",
            Specs.nanos(r.percentileNanos(50)), Specs.nanos(r.percentileNanos(99)),
            Specs.nanos(r.percentileNanos(99.9)), Specs.nanos(r.maxNanos())));
        sb.append(String.format(Locale.ROOT, "device     replayed %,d, stale completions dropped %,d, failed for no path %,d, " +
            "interrupts %,d, map epoch %d -> %d%n", r.replayed, r.staleDropped, r.failedNoPath, r.interrupts,
            r.epochStart, r.epochEnd));
        if (!r.extra.isEmpty())
        {
            sb.append("kind      ");
            r.extra.forEach((name, value) -> sb.append(' ').append(name).append('=').append(value));
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "faults     %d events applied%n", r.faults.size()));
        sb.append(String.format(Locale.ROOT, "failovers  %d%s%n", r.failovers.size(),
            r.failovers.isEmpty() ? "" : " (card, reason, at, fault->down, stall = fence to first replayed completion)"));
        for (final Failover f : r.failovers)
        {
            sb.append(String.format(Locale.ROOT, "  card %d  %-9s at %9s  detect %9s  stall %s%n", f.card(), f.reason(),
                Specs.nanos(f.downAtNanos()), Specs.nanos(f.detectNanos()),
                f.stallNanos() < 0 ? "- (nothing to replay)" : Specs.nanos(f.stallNanos())));
        }
        sb.append("cards      name      submitted   completed   errors   served(card)  health   fault\n");
        for (final SoakResult.CardStats cs : r.cards)
        {
            sb.append(String.format(Locale.ROOT, "           %-8s %10d  %10d  %7d  %12d  %-8s %s%n", cs.name(), cs.submitted(),
                cs.completed(), cs.errors(), cs.served(), cs.health(), cs.fault()));
        }
        sb.append('\n');
        verdict(sb, "lost", r.lostVerdict(), r.lost + " posted but never completed" + (r.quiesced ? "" : " (did not quiesce)"));
        verdict(sb, "duplicated", r.duplicatedVerdict(), r.duplicated + " duplicate or stray completions");
        verdict(sb, "corrupted", r.corruptedVerdict(), r.corrupted + " corrupt (blk/scsi: reads not the last completed write; " +
            "net: bad replies or rx buffers), of " + r.checked + " checked");
        verdict(sb, "leaked", r.leakedVerdict(), r.leaked + " requests still held by front queues or cards after quiesce");
        verdict(sb, "model", r.modelVerdict(), r.modelChecked ? r.model + " guest-visible events the reference model " +
            "refuses, of " + r.modelUnits + " checked (each request completes once; reads return the last completed " +
            "or a concurrently pending write; net: replies echo a sent payload once)" : "no reference model for this kind");
        for (final String v : r.modelFirst)
        {
            sb.append("             ").append(v).append('\n');
        }
        verdict(sb, "out-of-order", r.outOfOrderVerdict(), r.orderChecked ?
            r.outOfOrder + " writes reached a card after a later-posted write of their guest queue, of " +
            r.orderedWrites + " first submissions checked (" + r.orderExcused +
            " stranded by a fence and replayed late: allowed)" :
            "per-queue order is checked only for blk in queue-affine mode (a spray promises none)");
        verdict(sb, "guest-errors", r.errorsVerdict(), r.guestErrors + " error completions" +
            (r.allDownInSchedule ? " (all cards were down at some point: errors allowed)" : " while at least one card was up"));
        if (r.agentFailure != null)
        {
            verdict(sb, "agents", Verdict.FAIL, r.agentFailure);
        }
        sb.append(r.invariantsOk() ? "RESULT     PASS: every checked invariant held\n" :
            "RESULT     FAIL: an invariant broke (seed " + c.seed + ")\n");
        return sb.toString();
    }

    private static void verdict(final StringBuilder sb, final String name, final Verdict v, final String detail)
    {
        final String word = v == Verdict.NOT_CHECKED ? "not checked" : v.name();
        sb.append(String.format(Locale.ROOT, "%-12s %-11s %s%n", name, word, detail));
    }

    public static String json(final SoakResult r)
    {
        final SoakConfig c = r.config;
        final Json j = new Json();
        j.field("device", r.kind).field("mode", c.mode).field("selector", c.activePassive() ? "queue-affine" :
            c.selector == null ? "default" : c.selector);
        j.field("cards", c.cards).field("queues", c.queues).field("queue_depth", c.queueDepth)
            .field("ring", c.packed ? "packed" : "split").field("seed", c.seed)
            .field("threaded", c.threaded).field("faults", c.faults).field("latency", c.latency)
            .field("bandwidth_bytes_per_s", c.bandwidth);
        j.field("duration_s", r.runNanos / 1e9).field("wall_s", r.wallNanos / 1e9).field("quiesce_s", r.quiesceNanos / 1e9);
        j.field("requests_completed", r.requestsCompleted).field("iops", Math.round(r.iops()));
        j.field("p50_us", r.percentileNanos(50) / 1e3).field("p99_us", r.percentileNanos(99) / 1e3)
            .field("p999_us", r.percentileNanos(99.9) / 1e3).field("max_us", r.maxNanos() / 1e3);
        j.field("failovers", r.failovers.size()).field("max_stall_us", r.maxStallNanos() < 0 ? -1 : r.maxStallNanos() / 1e3);
        j.field("replayed", r.replayed).field("stale_dropped", r.staleDropped).field("failed_no_path", r.failedNoPath);
        j.field("lost", r.lost).field("duplicated", r.duplicated).field("corrupted", r.corrupted)
            .field("leaked", r.leaked).field("model", r.model).field("model_checked", r.modelChecked)
            .field("model_units", r.modelUnits).field("guest_errors", r.guestErrors).field("checked", r.checked)
            .field("out_of_order", r.outOfOrder).field("out_of_order_checked", r.orderChecked)
            .field("out_of_order_excused", r.orderExcused).field("quiesced", r.quiesced)
            .field("invariants_ok", r.invariantsOk());
        r.extra.forEach((name, value) -> j.field(name, value.longValue()));
        final StringBuilder list = new StringBuilder("[");
        for (final Failover f : r.failovers)
        {
            list.append(list.length() > 1 ? "," : "").append(new Json().field("card", f.card())
                .field("reason", f.reason().name()).field("down_at_ms", f.downAtNanos() / 1e6)
                .field("detect_us", f.detectNanos() < 0 ? -1 : f.detectNanos() / 1e3)
                .field("stall_us", f.stallNanos() < 0 ? -1 : f.stallNanos() / 1e3).end());
        }
        j.raw("failover_list", list.append(']').toString());
        final StringBuilder cards = new StringBuilder("[");
        for (final SoakResult.CardStats cs : r.cards)
        {
            cards.append(cards.length() > 1 ? "," : "").append(new Json().field("name", cs.name())
                .field("submitted", cs.submitted()).field("completed", cs.completed()).field("errors", cs.errors())
                .field("served", cs.served()).field("health", cs.health()).field("fault", cs.fault()).end());
        }
        j.raw("card_stats", cards.append(']').toString());
        return j.end();
    }

    /** A tiny JSON object writer: enough for flat fields and pre-rendered arrays. */
    static final class Json
    {
        private final StringBuilder sb = new StringBuilder("{");

        Json field(final String name, final String value)
        {
            return raw(name, value == null ? "null" : quote(value));
        }

        Json field(final String name, final long value)
        {
            return raw(name, Long.toString(value));
        }

        Json field(final String name, final double value)
        {
            return raw(name, Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "null");
        }

        Json field(final String name, final boolean value)
        {
            return raw(name, Boolean.toString(value));
        }

        Json raw(final String name, final String json)
        {
            sb.append(sb.length() > 1 ? "," : "").append(quote(name)).append(':').append(json);
            return this;
        }

        String end()
        {
            return sb + "}";
        }

        static String quote(final String s)
        {
            final StringBuilder q = new StringBuilder("\"");
            for (int i = 0; i < s.length(); i++)
            {
                final char ch = s.charAt(i);
                if (ch == '"' || ch == '\\')
                {
                    q.append('\\').append(ch);
                }
                else if (ch < 0x20)
                {
                    q.append(String.format(Locale.ROOT, "\\u%04x", (int)ch));
                }
                else
                {
                    q.append(ch);
                }
            }
            return q.append('"').toString();
        }
    }

    /** Stall values (nanos) of the failovers that replayed something. */
    public static long[] stalls(final List<Failover> failovers)
    {
        return failovers.stream().mapToLong(Failover::stallNanos).filter(s -> s >= 0).sorted().toArray();
    }
}
