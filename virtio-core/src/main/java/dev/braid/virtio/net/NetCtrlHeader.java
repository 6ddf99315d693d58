package dev.braid.virtio.net;

import dev.braid.virtio.memory.GuestFlyweight;

/** Flyweight over the class/command pair that starts a control-queue command. */
public final class NetCtrlHeader extends GuestFlyweight<NetCtrlHeader>
{
    public int commandClass()
    {
        return u8(NetDescriptor.CTRL_CLASS_OFFSET);
    }

    public NetCtrlHeader commandClass(final int commandClass)
    {
        putU8(NetDescriptor.CTRL_CLASS_OFFSET, commandClass);
        return this;
    }

    public int command()
    {
        return u8(NetDescriptor.CTRL_COMMAND_OFFSET);
    }

    public NetCtrlHeader command(final int command)
    {
        putU8(NetDescriptor.CTRL_COMMAND_OFFSET, command);
        return this;
    }
}
