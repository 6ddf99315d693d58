package dev.braid.examples.soak;

import dev.braid.sim.CardFault;
import dev.braid.sim.FaultTarget;
import dev.braid.virtio.card.Card;

import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A {@link FaultTarget} over a simulated card that has the fault knobs but not the interface (the
 * sim NIC and HBA): inject, heal, and rejoin = heal then unfence, as the simulated disk does it.
 */
public final class SimCardTarget implements FaultTarget
{
    private final Card card;
    private final BiConsumer<CardFault, Long> inject;
    private final Supplier<CardFault> fault;

    public SimCardTarget(final Card card, final BiConsumer<CardFault, Long> inject, final Supplier<CardFault> fault)
    {
        this.card = card;
        this.inject = inject;
        this.fault = fault;
    }

    public Card card()
    {
        return card;
    }

    public String name()
    {
        return card.name();
    }

    public void inject(final CardFault fault, final long param)
    {
        inject.accept(fault, param);
    }

    public void heal()
    {
        inject.accept(CardFault.HEALTHY, 0L);
    }

    public void rejoin()
    {
        heal();
        card.unfence();
    }

    public CardFault fault()
    {
        return fault.get();
    }
}
