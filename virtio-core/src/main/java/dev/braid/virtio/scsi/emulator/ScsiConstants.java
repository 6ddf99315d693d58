package dev.braid.virtio.scsi.emulator;

/** SCSI opcodes, status codes, sense keys and additional sense codes used by the emulator (SPC-4, SBC-3). */
public final class ScsiConstants
{
    public static final int TEST_UNIT_READY = 0x00;
    public static final int REQUEST_SENSE = 0x03;
    public static final int INQUIRY = 0x12;
    public static final int MODE_SENSE_6 = 0x1A;
    public static final int READ_CAPACITY_10 = 0x25;
    public static final int READ_10 = 0x28;
    public static final int WRITE_10 = 0x2A;
    public static final int SYNCHRONIZE_CACHE_10 = 0x35;
    public static final int UNMAP = 0x42;
    public static final int MODE_SENSE_10 = 0x5A;
    public static final int READ_16 = 0x88;
    public static final int WRITE_16 = 0x8A;
    public static final int SYNCHRONIZE_CACHE_16 = 0x91;
    public static final int SERVICE_ACTION_IN_16 = 0x9E;
    public static final int REPORT_LUNS = 0xA0;

    /** SERVICE ACTION IN(16) service action for READ CAPACITY(16). */
    public static final int SA_READ_CAPACITY_16 = 0x10;

    public static final int STATUS_GOOD = 0x00;
    public static final int STATUS_CHECK_CONDITION = 0x02;

    public static final int KEY_NO_SENSE = 0x0;
    public static final int KEY_NOT_READY = 0x2;
    public static final int KEY_MEDIUM_ERROR = 0x3;
    public static final int KEY_HARDWARE_ERROR = 0x4;
    public static final int KEY_ILLEGAL_REQUEST = 0x5;
    public static final int KEY_UNIT_ATTENTION = 0x6;
    public static final int KEY_ABORTED_COMMAND = 0xB;

    /** Additional sense codes (ASC); the qualifier is 0 for all of them. */
    public static final int ASC_NONE = 0x00;
    public static final int ASC_PARAMETER_LIST_LENGTH_ERROR = 0x1A;
    public static final int ASC_INVALID_OPCODE = 0x20;
    public static final int ASC_LBA_OUT_OF_RANGE = 0x21;
    public static final int ASC_INVALID_FIELD_IN_CDB = 0x24;
    public static final int ASC_LUN_NOT_SUPPORTED = 0x25;
    public static final int ASC_INVALID_FIELD_IN_PARAMETER_LIST = 0x26;
    public static final int ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x39;

    private ScsiConstants()
    {
    }

    /** CDB length implied by the opcode's group code, or 0 for groups the emulator does not know. */
    public static int cdbLengthOf(final int opcode)
    {
        switch ((opcode & 0xFF) >>> 5)
        {
            case 0: return 6;
            case 1:
            case 2: return 10;
            case 4: return 16;
            case 5: return 12;
            default: return 0;
        }
    }
}
