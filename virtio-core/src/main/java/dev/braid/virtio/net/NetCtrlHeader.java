package dev.braid.virtio.net;

import dev.braid.virtio.memory.GuestMemory;

/** Flyweight over the class/command pair that starts a control-queue command. */
public final class NetCtrlHeader
{
    private GuestMemory memory;
    private long gpa;

    public NetCtrlHeader wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public int commandClass()
    {
        return memory.getByte(gpa + NetDescriptor.CTRL_CLASS_OFFSET) & 0xFF;
    }

    public NetCtrlHeader commandClass(final int commandClass)
    {
        memory.putByte(gpa + NetDescriptor.CTRL_CLASS_OFFSET, (byte)commandClass);
        return this;
    }

    public int command()
    {
        return memory.getByte(gpa + NetDescriptor.CTRL_COMMAND_OFFSET) & 0xFF;
    }

    public NetCtrlHeader command(final int command)
    {
        memory.putByte(gpa + NetDescriptor.CTRL_COMMAND_OFFSET, (byte)command);
        return this;
    }
}
