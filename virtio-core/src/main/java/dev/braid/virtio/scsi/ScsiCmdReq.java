package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_req_cmd (lun, id, task_attr, prio, crn, then cdb_size CDB bytes).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiCmdReq extends GuestFlyweight<ScsiCmdReq>
{
    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return u64(ScsiDescriptor.CMD_LUN_OFFSET);
    }

    public ScsiCmdReq lun(final long value)
    {
        putU64(ScsiDescriptor.CMD_LUN_OFFSET, value);
        return this;
    }

    /** The driver's tag for the command. */
    public long id()
    {
        return u64(ScsiDescriptor.CMD_ID_OFFSET);
    }

    public ScsiCmdReq id(final long value)
    {
        putU64(ScsiDescriptor.CMD_ID_OFFSET, value);
        return this;
    }

    public int taskAttr()
    {
        return u8(ScsiDescriptor.CMD_TASK_ATTR_OFFSET);
    }

    public ScsiCmdReq taskAttr(final int value)
    {
        putU8(ScsiDescriptor.CMD_TASK_ATTR_OFFSET, value);
        return this;
    }

    public int prio()
    {
        return u8(ScsiDescriptor.CMD_PRIO_OFFSET);
    }

    public ScsiCmdReq prio(final int value)
    {
        putU8(ScsiDescriptor.CMD_PRIO_OFFSET, value);
        return this;
    }

    public int crn()
    {
        return u8(ScsiDescriptor.CMD_CRN_OFFSET);
    }

    public ScsiCmdReq crn(final int value)
    {
        putU8(ScsiDescriptor.CMD_CRN_OFFSET, value);
        return this;
    }

    public int cdb(final int index)
    {
        return u8(ScsiDescriptor.CMD_CDB_OFFSET + index);
    }

    public ScsiCmdReq cdb(final int index, final int value)
    {
        putU8(ScsiDescriptor.CMD_CDB_OFFSET + index, value);
        return this;
    }

    /** Writes {@code length} CDB bytes from {@code src}. */
    public ScsiCmdReq putCdb(final byte[] src, final int length)
    {
        putBytes(ScsiDescriptor.CMD_CDB_OFFSET, src, length);
        return this;
    }
}
