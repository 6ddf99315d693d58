package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_req_cmd (lun, id, task_attr, prio, crn, then cdb_size CDB bytes).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiCmdReq
{
    private GuestMemory memory;
    private long gpa;

    public ScsiCmdReq wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return memory.getLong(gpa + ScsiDescriptor.CMD_LUN_OFFSET);
    }

    public ScsiCmdReq lun(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.CMD_LUN_OFFSET, value);
        return this;
    }

    /** The driver's tag for the command. */
    public long id()
    {
        return memory.getLong(gpa + ScsiDescriptor.CMD_ID_OFFSET);
    }

    public ScsiCmdReq id(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.CMD_ID_OFFSET, value);
        return this;
    }

    public int taskAttr()
    {
        return memory.getByte(gpa + ScsiDescriptor.CMD_TASK_ATTR_OFFSET) & 0xFF;
    }

    public ScsiCmdReq taskAttr(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.CMD_TASK_ATTR_OFFSET, (byte)value);
        return this;
    }

    public int prio()
    {
        return memory.getByte(gpa + ScsiDescriptor.CMD_PRIO_OFFSET) & 0xFF;
    }

    public ScsiCmdReq prio(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.CMD_PRIO_OFFSET, (byte)value);
        return this;
    }

    public int crn()
    {
        return memory.getByte(gpa + ScsiDescriptor.CMD_CRN_OFFSET) & 0xFF;
    }

    public ScsiCmdReq crn(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.CMD_CRN_OFFSET, (byte)value);
        return this;
    }

    public int cdb(final int index)
    {
        return memory.getByte(gpa + ScsiDescriptor.CMD_CDB_OFFSET + index) & 0xFF;
    }

    public ScsiCmdReq cdb(final int index, final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.CMD_CDB_OFFSET + index, (byte)value);
        return this;
    }

    /** Writes {@code length} CDB bytes from {@code src}. */
    public ScsiCmdReq putCdb(final byte[] src, final int length)
    {
        memory.putBytes(gpa + ScsiDescriptor.CMD_CDB_OFFSET, src, 0, length);
        return this;
    }
}
