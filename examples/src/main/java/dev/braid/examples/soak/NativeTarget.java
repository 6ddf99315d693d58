package dev.braid.examples.soak;

import dev.braid.sim.CardFault;
import dev.braid.virtio.card.Card;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A native card as a fault target: only what can be done to a real card. {@link CardFault#FAIL_STOP}
 * fences the card (the kernel or the event loop is done with every guest buffer) and closes it: fds,
 * rings, connections gone, its in-flight requests never answered, so the device finds it by the
 * completion timeout, as it would a dead path. A closed card does not come back ({@link #heal()} and
 * {@link #rejoin()} leave it dead; a hot-add brings a new one). {@link CardFault#LINK_DOWN} on a TAP is
 * {@code ip link set IFNAME down}, healed by {@code up}. Everything else a sim card can do (hang,
 * slow, error bursts, zombies) is refused by {@link #check} before the run: on real cards those come
 * from the peers (an nbdkit filter, a killed server).
 */
public final class NativeTarget implements dev.braid.sim.FaultTarget
{
    private final Card card;
    private final NativeCards.Spec spec;
    private volatile CardFault fault = CardFault.HEALTHY;

    public NativeTarget(final Card card, final NativeCards.Spec spec)
    {
        this.card = card;
        this.spec = spec;
    }

    /** Refuses, with one line, a fault this spec's card cannot be put in. */
    public static void check(final NativeCards.Spec spec, final CardFault fault, final String where)
    {
        final boolean ok = fault == CardFault.HEALTHY || fault == CardFault.FAIL_STOP ||
            (fault == CardFault.LINK_DOWN && spec.kind() == NativeCards.Kind.TAP);
        if (!ok)
        {
            throw new UsageException("--faults " + where + ": " + fault.name().toLowerCase().replace('_', '-') +
                " cannot be applied to " + spec.text() + " (native cards take fail-stop" +
                (spec.kind() == NativeCards.Kind.TAP ? " and link-down" : "") + "; hang, errors and stalls come from the peer)");
        }
    }

    public String name()
    {
        return card.name();
    }

    public Card card()
    {
        return card;
    }

    public void inject(final CardFault fault, final long param)
    {
        switch (fault)
        {
            case FAIL_STOP ->
            {
                this.fault = CardFault.FAIL_STOP;
                card.fence();
                closeQuietly();
            }
            case LINK_DOWN ->
            {
                if (this.fault == CardFault.HEALTHY && spec.kind() == NativeCards.Kind.TAP)
                {
                    this.fault = CardFault.LINK_DOWN;
                    ip("down");
                }
            }
            case HEALTHY -> heal();
            default -> throw new IllegalStateException(card.name() + ": " + fault + " is not a native fault");
        }
    }

    public void heal()
    {
        if (fault == CardFault.LINK_DOWN)
        {
            ip("up");
            fault = CardFault.HEALTHY;
        }
    }

    public void rejoin()
    {
        heal();
    }

    public CardFault fault()
    {
        return fault;
    }

    private void closeQuietly()
    {
        if (card instanceof AutoCloseable closeable)
        {
            try
            {
                closeable.close();
            }
            catch (final Exception ex)
            {
                System.err.println("braid: closing " + card.name() + ": " + NativeCards.oneLine(ex));
            }
        }
    }

    private void ip(final String state)
    {
        final List<String> command = List.of("ip", "link", "set", spec.ifname(), state);
        try
        {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0)
            {
                System.err.println("braid: " + String.join(" ", command) + ": " + out);
            }
        }
        catch (final IOException ex)
        {
            System.err.println("braid: " + String.join(" ", command) + ": " + ex.getMessage());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
