package dev.braid.examples;

import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakReport;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.examples.soak.Verdict;
import dev.braid.testkit.DefaultSeed;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

/** Short deterministic soaks under the heavy random profile: every invariant must hold. */
@ExtendWith(SeedExtension.class)
class SoakRigTest
{
    @ParameterizedTest
    @CsvSource({ "aa, least-outstanding, false", "aa, queue-affine, true", "aa, round-robin, false", "ap, , true" })
    @DefaultSeed(21)
    void heavyFaultsKeepTheInvariants(final String mode, final String selector, final boolean packed, final Seed seed)
    {
        final SoakConfig c = heavyFaults(seed, mode, 4, 16, 60_000_000L);
        c.threaded = false;
        c.selector = selector;
        c.packed = packed;
        final SoakResult r = new SoakRig(c).run();
        assertTrue(r.invariantsOk(), r.summary());
        assertEquals(Verdict.PASS, r.lostVerdict());
        assertEquals(Verdict.PASS, r.duplicatedVerdict());
        assertEquals(Verdict.PASS, r.corruptedVerdict());
        assertEquals(Verdict.PASS, r.leakedVerdict());
        final boolean affine = "ap".equals(mode) || "queue-affine".equals(selector);
        assertEquals(affine ? Verdict.PASS : Verdict.NOT_CHECKED, r.outOfOrderVerdict(),
            "order is checked in queue-affine mode only, and never reported as a pass otherwise: " + r.outOfOrder);
        assertFalse(r.failovers.isEmpty(), "heavy faults caused failovers");
        assertTrue(r.checked > 1000, "reads were verified");
    }

    @ParameterizedTest
    @CsvSource({ "aa, false", "aa, true", "ap, false" })
    @DefaultSeed(37)
    void queueAffineBlkKeepsPerQueueWriteOrderUnderHeavyFaults(final String mode, final boolean packed, final Seed seed)
    {
        final SoakConfig c = heavyFaults(seed, mode, 4, 16, 60_000_000L);
        c.threaded = false;
        c.selector = "aa".equals(mode) ? "queue-affine" : null;
        c.packed = packed;
        final SoakResult r = new SoakRig(c).run();
        assertTrue(r.orderChecked, "queue-affine blk checks order");
        assertEquals(0, r.outOfOrder, r.summary());
        assertEquals(Verdict.PASS, r.outOfOrderVerdict());
        assertTrue(r.invariantsOk(), r.summary());
        assertFalse(r.failovers.isEmpty(), "heavy faults caused failovers");
        assertTrue(r.replayed > 0, "writes were replayed, and told apart from first submissions");
        assertTrue(r.orderedWrites > 1000, "writes checked: " + r.orderedWrites);
        final String json = SoakReport.json(r);
        assertTrue(json.contains("\"out_of_order\":0,\"out_of_order_checked\":true"), json);
    }

    @ParameterizedTest
    @CsvSource({ "net, aa, false", "net, ap, true", "scsi, aa, true", "scsi, ap, false" })
    @DefaultSeed(23)
    void netAndScsiKeepTheirInvariantsUnderHeavyFaults(final String device, final String mode, final boolean packed, final Seed seed)
    {
        final SoakConfig c = heavyFaults(seed, mode, 4, 16, 60_000_000L);
        c.device = device;
        c.threaded = false;
        c.packed = packed;
        final SoakResult r = new SoakRig(c).run();
        assertTrue(r.invariantsOk(), r.summary() + " " + r.extra);
        assertEquals(0, r.lost, "lost");
        assertEquals(0, r.duplicated, "duplicated");
        assertEquals(0, r.corrupted, "corrupted");
        assertFalse(r.failovers.isEmpty(), "heavy faults caused failovers");
        assertTrue(r.checked > 1000, "data was verified: " + r.checked);
        if ("net".equals(device))
        {
            // Wire losses are reported apart, never as virtio losses.
            assertTrue(r.extra.containsKey("wire_lost_replies") && r.extra.containsKey("wire_duplicate_replies"));
            assertEquals(r.extra.get("tx_posted"), r.extra.get("tx_completed"), "every tx buffer completed once");
        }
    }

    @ParameterizedTest
    @CsvSource({ "net, aa", "scsi, ap" })
    @DefaultSeed(29)
    void threadedNetAndScsiUnderHeavyFaults(final String device, final String mode, final Seed seed)
    {
        final SoakConfig c = heavyFaults(seed, mode, 3, 32, 600_000_000L);
        c.device = device;
        final SoakResult r = new SoakRig(c).run();
        assertTrue(r.invariantsOk(), r.summary() + " " + r.extra);
        assertTrue(r.requestsCompleted > 0);
    }

    /** A deterministic soak config under the heavy fault profile; callers set what they vary. */
    private static SoakConfig heavyFaults(
        final Seed seed, final String mode, final int cards, final int queueDepth, final long durationNanos)
    {
        final SoakConfig c = new SoakConfig();
        c.mode = mode;
        c.cards = cards;
        c.queueDepth = queueDepth;
        c.durationNanos = durationNanos;
        c.faults = "heavy";
        c.seed = seed.value();
        return c;
    }
}
