package dev.braid.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CardFaultTest
{
    private static final EnumSet<CardFault> LINK_DOWN = EnumSet.of(CardFault.FAIL_STOP, CardFault.LINK_DOWN);
    private static final EnumSet<CardFault> STALLED = EnumSet.of(CardFault.FAIL_STOP, CardFault.HANG);

    @ParameterizedTest
    @EnumSource(CardFault.class)
    void onlyFailStopAndLinkDownTakeTheLinkDownAndOnlyFailStopAndHangStall(final CardFault fault)
    {
        assertEquals(!LINK_DOWN.contains(fault), fault.linkUp());
        assertEquals(!STALLED.contains(fault), fault.progresses());
        final CardFaultState state = new CardFaultState();
        state.set(fault, 0);
        assertEquals(fault.linkUp(), state.isLinkUp());
        assertEquals(fault.progresses(), state.progresses());
    }
}
