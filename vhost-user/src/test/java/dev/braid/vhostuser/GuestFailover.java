package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.RunningGuest;
import org.junit.jupiter.params.provider.Arguments;

import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A card failing under a real guest's block I/O: the failovers each real-guest block test runs
 * ({@link #cases}), and the procedure of the dd loop beside it ({@link #roundsWhileACardFails}).
 */
final class GuestFailover
{
    static final int ROUNDS = 24;

    private GuestFailover()
    {
    }

    /**
     * (aggregation, fault, name): card a's link goes down under active-active, and the active card
     * fail-stops under active-passive (no failback, so the standby keeps serving).
     */
    static Stream<Arguments> cases()
    {
        return Stream.of(
            Arguments.of(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), CardFault.LINK_DOWN, "linkdown-aa"),
            Arguments.of(Aggregation.activePassive(Failback.manual()), CardFault.FAIL_STOP, "failstop-ap"));
    }

    /**
     * The guest ({@code guest}, all but its script) loops {@link GuestPattern#rounds} on {@code disk};
     * once card a has served {@code minServed} requests of the loop the host puts it in {@code fault}.
     * Checks: the guest succeeded, every round matched in the guest and in the store, no I/O error in
     * the guest's kernel log, card b served, nothing left after QEMU. {@code moreResults} are shell
     * lines run after the loop, whose results the caller checks.
     */
    static GuestResult roundsWhileACardFails(final VhostUserRig rig, final TwoSimCards<?> cards, final GuestRun guest,
        final String disk, final long minServed, final CardFault fault, final String moreResults) throws Exception
    {
        final String script = String.join("\n",
            "braid_wait " + disk + " || { echo no " + disk + "; exit 3; }",
            GuestPattern.rounds(disk, ROUNDS),
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            moreResults,
            "");
        final GuestResult result;
        try (RunningGuest running = guest.script(script).start())
        {
            assertEquals("1", running.awaitResult("started", Duration.ofSeconds(120)), "guest loop started");
            final long before = cards.aServed();
            Waits.until(() -> cards.aServed() >= before + minServed, Duration.ofSeconds(30));
            cards.a().inject(fault, 0);
            rig.log("test: card a " + fault + " after " + cards.aServed() + " served");
            result = running.awaitResult();
        }
        result.assertSucceeded();
        System.out.println("failover " + result.name() + ": done after " + result.doneAfterSeconds() + " s; ok=" +
            result.result("ok") + " bad=" + result.result("bad") + " a=" + cards.aServed() + " b=" + cards.bServed());
        GuestPattern.assertRounds(result, cards.store(), ROUNDS);
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
        assertTrue(cards.bServed() > 0, "card b took over");
        rig.assertNothingLeftAfterQemu();
        return result;
    }
}
