package dev.braid.virtio.net;

/**
 * A parsed control-queue command. {@link #value()} carries the decoded argument of the simple
 * commands: the on/off byte of an RX mode, the MAC of ADDR_SET (48 bits, first octet high), the
 * VLAN id, the queue-pair count, the offload bits. MAC_TABLE_SET reports its two entry counts; the
 * entries themselves are in the payload (unicast table after 4 bytes, multicast after that).
 */
public final class NetCtrlRequest
{
    /** Execute the command, then write the ack byte (OK, or ERR if execution fails). */
    public static final int SUBMIT = 0;
    /** Write {@link #ack()} at {@link #ackGpa()} now, used length 1. */
    public static final int COMPLETE = 1;
    /** No writable byte: complete with used length 0. */
    public static final int COMPLETE_NO_ACK = 2;

    private int id;
    private int outcome;
    private int ack;
    private long ackGpa;
    private int commandClass;
    private int command;
    private int payloadSegment;
    private int payloadOffset;
    private long payloadLength;
    private long value;
    private long unicastEntries;
    private long multicastEntries;

    void reset(final int id)
    {
        this.id = id;
        outcome = COMPLETE_NO_ACK;
        ack = VirtioNet.VIRTIO_NET_ERR;
        ackGpa = -1;
        commandClass = -1;
        command = -1;
        payloadSegment = 0;
        payloadOffset = 0;
        payloadLength = 0;
        value = 0;
        unicastEntries = 0;
        multicastEntries = 0;
    }

    int completeNoAck()
    {
        outcome = COMPLETE_NO_ACK;
        ack = VirtioNet.VIRTIO_NET_ERR;
        return ack;
    }

    int error()
    {
        outcome = COMPLETE;
        ack = VirtioNet.VIRTIO_NET_ERR;
        return ack;
    }

    int submit(final long value)
    {
        this.value = value;
        outcome = SUBMIT;
        ack = VirtioNet.VIRTIO_NET_OK;
        return ack;
    }

    void ackGpa(final long gpa)
    {
        ackGpa = gpa;
    }

    void command(final int commandClass, final int command)
    {
        this.commandClass = commandClass;
        this.command = command;
    }

    void payload(final int segment, final int offset, final long length)
    {
        payloadSegment = segment;
        payloadOffset = offset;
        payloadLength = length;
    }

    void macTable(final long unicast, final long multicast)
    {
        unicastEntries = unicast;
        multicastEntries = multicast;
    }

    public int id()
    {
        return id;
    }

    public int outcome()
    {
        return outcome;
    }

    /** VIRTIO_NET_OK for a command to execute, otherwise VIRTIO_NET_ERR. */
    public int ack()
    {
        return ack;
    }

    public long ackGpa()
    {
        return ackGpa;
    }

    /** The class byte; -1 when it could not be read. */
    public int commandClass()
    {
        return commandClass;
    }

    public int command()
    {
        return command;
    }

    public int payloadSegment()
    {
        return payloadSegment;
    }

    public int payloadOffset()
    {
        return payloadOffset;
    }

    public long payloadLength()
    {
        return payloadLength;
    }

    public long value()
    {
        return value;
    }

    public long unicastEntries()
    {
        return unicastEntries;
    }

    public long multicastEntries()
    {
        return multicastEntries;
    }

    public String toString()
    {
        return "NetCtrlRequest{id=" + id + ", outcome=" + outcome + ", ack=" + ack + ", class=" + commandClass +
            ", cmd=" + command + ", payload=" + payloadSegment + "+" + payloadOffset + "/" + payloadLength +
            ", value=0x" + Long.toHexString(value) + "}";
    }
}
