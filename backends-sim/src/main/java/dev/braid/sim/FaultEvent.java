package dev.braid.sim;

/**
 * One entry of a {@link FaultSchedule}: at virtual time {@code atNanos}, do {@code action} to
 * {@code target} (for INJECT, with {@code fault} and its {@code param}, see {@link FaultTarget#inject}).
 */
public record FaultEvent(long atNanos, FaultTarget target, FaultAction action, CardFault fault, long param)
{
    public void apply()
    {
        switch (action)
        {
            case INJECT:
                target.inject(fault, param);
                break;
            case HEAL:
                target.heal();
                break;
            case REJOIN:
                target.rejoin();
                break;
            default:
                throw new IllegalStateException("unknown action " + action);
        }
    }

    public String toString()
    {
        return atNanos + "ns " + target.name() + " " +
            (action == FaultAction.INJECT ? fault + "(" + param + ")" : action.toString());
    }
}
