package dev.braid.virtio.scsi.emulator;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.ScsiIo;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;

/**
 * A SCSI direct-access block device (an SPC-4/SBC-3 subset) with 512-byte logical blocks, over a
 * medium it never touches itself. Stateless, so every path (card) of a device can share one emulator
 * per LUN; per-command scratch comes from the caller's {@link ScsiContext}.
 *
 * <p>{@link #execute} answers what the emulator knows (INQUIRY, READ CAPACITY, MODE SENSE, REPORT
 * LUNS, every bad CDB) at once. A command that needs the medium (READ, WRITE, SYNCHRONIZE CACHE,
 * UNMAP) is validated as a whole first, then returned as {@link #MEDIUM}: the context names one
 * block operation ({@link BlockIo} codes) for the caller to run (a sim store synchronously, a block
 * card asynchronously), and {@link #completeMedium} turns its card status into the SCSI result. So
 * sim and native HBAs share every CDB rule and differ only in how blocks move.
 *
 * <p>CDBs, lengths and parameter lists are guest-controlled: every field is range-checked and bad
 * input gets CHECK CONDITION with fixed sense, never an exception. Data moves only through the
 * request's {@link IoVector}s, bounded by their lengths.
 */
public final class ScsiDiskEmulator
{
    public static final int BLOCK_SIZE = BlockIo.SECTOR_SIZE;
    /** What {@link #execute} returns for a command the caller must run on the medium (never a packed result). */
    public static final int MEDIUM = -1;
    /** Largest READ/WRITE, in blocks (reported in the Block Limits VPD page). */
    public static final int MAX_TRANSFER_BLOCKS = 8192;
    public static final int MAX_UNMAP_DESCRIPTORS = 256;
    /** The IEEE company id used in the NAA designator: a placeholder, not a registered OUI. */
    public static final int NAA_COMPANY_ID = 0x02B7AD;

    static final byte[] VENDOR = ascii("BRAID", 8);
    static final String DEFAULT_PRODUCT = "SIM DISK";
    static final byte[] REVISION = ascii("0001", 4);
    static final int[] VPD_PAGES = {0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2};

    private final long sectors;
    private final byte[] serial;
    private final long naa;
    private final byte[] product;
    private final int maxUnmapDescriptors;
    private int maxTransferBlocks = MAX_TRANSFER_BLOCKS;
    private final boolean fua;

    /**
     * A LUN as the sim HBAs show it: up to {@link #MAX_UNMAP_DESCRIPTORS} per UNMAP, DPOFUA set (the
     * sim store is write-through, so FUA costs nothing).
     *
     * @param serial   unit serial number, printable ASCII (at most 32 characters used).
     * @param deviceId vendor-specific part of the NAA designator (36 bits used); equal on every path.
     */
    public ScsiDiskEmulator(final long capacityBlocks, final String serial, final long deviceId)
    {
        this(capacityBlocks, serial, deviceId, DEFAULT_PRODUCT, MAX_UNMAP_DESCRIPTORS, true);
    }

    /**
     * @param product             INQUIRY product identification (ASCII, 16 characters used).
     * @param maxUnmapDescriptors the most descriptors one UNMAP may carry (1 where each becomes one card request).
     * @param fua                 whether MODE SENSE reports DPOFUA; without it the guest flushes with
     *                            SYNCHRONIZE CACHE and the FUA bit of a WRITE is refused.
     */
    public ScsiDiskEmulator(final long capacityBlocks, final String serial, final long deviceId, final String product,
        final int maxUnmapDescriptors, final boolean fua)
    {
        if (capacityBlocks < 1)
        {
            throw new IllegalArgumentException("a LUN needs at least one block: " + capacityBlocks);
        }
        if (maxUnmapDescriptors < 1 || maxUnmapDescriptors > MAX_UNMAP_DESCRIPTORS)
        {
            throw new IllegalArgumentException("max UNMAP descriptors must be 1.." + MAX_UNMAP_DESCRIPTORS + ": " +
                maxUnmapDescriptors);
        }
        this.sectors = capacityBlocks;
        final byte[] s = serial.getBytes(StandardCharsets.US_ASCII);
        this.serial = Arrays.copyOf(s, Math.min(32, s.length));
        this.naa = 5L << 60 | (long)NAA_COMPANY_ID << 36 | (deviceId & 0xF_FFFF_FFFFL);
        this.product = ascii(product, 16);
        this.maxUnmapDescriptors = maxUnmapDescriptors;
        this.fua = fua;
    }

    /**
     * A LUN whose medium is a block card ({@link BlockScsiCard}): one UNMAP descriptor (one DISCARD
     * request), no DPOFUA (a block card has no FUA write; the guest flushes with SYNCHRONIZE CACHE).
     * Give every path of one disk the same serial and id.
     */
    public static ScsiDiskEmulator forBlockMedium(final long capacityBlocks, final String serial, final long deviceId)
    {
        return new ScsiDiskEmulator(capacityBlocks, serial, deviceId, "BLOCK DISK", 1, false);
    }

    /**
     * {@link #forBlockMedium(long, String, long)} over block cards that take requests of at most
     * {@code maxTransferBytes} ({@code BlockCard.maxTransferBytes()}, the smallest over the paths): the
     * Block Limits page says so, and a READ or WRITE above it is refused before it reaches a card.
     */
    public static ScsiDiskEmulator forBlockMedium(final long capacityBlocks, final String serial, final long deviceId,
        final long maxTransferBytes)
    {
        final ScsiDiskEmulator lun = forBlockMedium(capacityBlocks, serial, deviceId);
        if (maxTransferBytes < 8 * BLOCK_SIZE)
        {
            throw new IllegalArgumentException("a LUN's paths must take requests of at least 8 blocks: " + maxTransferBytes);
        }
        lun.maxTransferBlocks = (int)Math.min(MAX_TRANSFER_BLOCKS, maxTransferBytes / BLOCK_SIZE);
        return lun;
    }

    /** The most blocks one READ or WRITE may move (the Block Limits page's maximum transfer length). */
    public int maxTransferBlocks()
    {
        return maxTransferBlocks;
    }

    public long capacityBlocks()
    {
        return sectors;
    }

    private boolean inRange(final long lba, final long blocks)
    {
        return lba >= 0 && blocks >= 0 && lba <= sectors && blocks <= sectors - lba;
    }

    /** The 64-bit NAA (type 5) designator of the logical unit. */
    public long naa()
    {
        return naa;
    }

    /**
     * Executes {@code io}'s CDB. Returns a packed result ({@link ScsiIo#packResult}); sense, when
     * any, is in {@code io.sense()}; {@link ScsiContext#transferred()} gives the data bytes moved.
     * Or returns {@link #MEDIUM}: run the context's medium operation, then call {@link #completeMedium}.
     */
    public int execute(final ScsiIo io, final ScsiContext context)
    {
        context.transferred = 0;
        context.senseLength = 0;
        context.mediumOperation = -1;
        final byte[] cdb = io.cdb();
        final int cdbLength = Math.min(io.cdbLength(), cdb.length);
        if (cdbLength < 1)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        }
        final int opcode = cdb[0] & 0xFF;
        final int needed = cdbLengthOf(opcode);
        if (needed == 0)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        }
        if (cdbLength < needed || (cdb[needed - 1] & 0x04) != 0)
        {
            // Too short for its opcode, or NACA set in the control byte (ACA is not supported).
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        switch (opcode)
        {
            case TEST_UNIT_READY:
                return good(context, 0, false);
            case REQUEST_SENSE:
                return requestSense(io, context, KEY_NO_SENSE, ASC_NONE);
            case INQUIRY:
                return inquiry(io, context, true);
            case MODE_SENSE_6:
            case MODE_SENSE_10:
                return modeSense(io, context, opcode == MODE_SENSE_10);
            case READ_CAPACITY_10:
                return readCapacity10(io, context);
            case SERVICE_ACTION_IN_16:
                if ((cdb[1] & 0x1F) != SA_READ_CAPACITY_16)
                {
                    return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
                }
                return readCapacity16(io, context);
            case READ_10:
                return readWrite(io, context, false, u32(cdb, 2), u16(cdb, 7));
            case READ_16:
                return readWrite(io, context, false, u64(cdb, 2), u32(cdb, 10));
            case WRITE_10:
                return readWrite(io, context, true, u32(cdb, 2), u16(cdb, 7));
            case WRITE_16:
                return readWrite(io, context, true, u64(cdb, 2), u32(cdb, 10));
            case SYNCHRONIZE_CACHE_10:
                return synchronizeCache(io, context, u32(cdb, 2), u16(cdb, 7));
            case SYNCHRONIZE_CACHE_16:
                return synchronizeCache(io, context, u64(cdb, 2), u32(cdb, 10));
            case UNMAP:
                return unmap(io, context);
            case REPORT_LUNS:
                return reportLuns(io, context, 1);
            default:
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        }
    }

    // ---------------------------------------------------------------- commands

    private int readWrite(final ScsiIo io, final ScsiContext context, final boolean write, final long lba, final long blocks)
    {
        final int flags = io.cdb()[1] & 0xFF;
        if ((flags & 0xE0) != 0 || (!fua && (flags & 0x08) != 0))
        {
            // RDPROTECT/WRPROTECT: no protection information on this device; FUA only where offered.
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        if (!inRange(lba, blocks))
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        }
        if (blocks > maxTransferBlocks)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final long bytes = blocks * BLOCK_SIZE;
        final long moved;
        if (write)
        {
            if (io.dataOut().totalLength() < bytes)
            {
                // The data-out buffer cannot hold the blocks the CDB names: write nothing.
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
            }
            moved = bytes;
        }
        else
        {
            // A data-in buffer shorter than the blocks gets what fits (OVERRUN).
            moved = Math.min(bytes, io.dataIn().totalLength());
        }
        if (moved == 0)
        {
            return good(context, 0, moved < bytes);
        }
        context.mediumBytes = moved;
        return medium(context, write ? BlockIo.WRITE : BlockIo.READ, lba, blocks, moved < bytes);
    }

    private int synchronizeCache(final ScsiIo io, final ScsiContext context, final long lba, final long blocks)
    {
        final long count = blocks == 0 ? Math.max(0, sectors - lba) : blocks;
        if (!inRange(lba, count))
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        }
        // A range flush is a whole-medium flush: block media have nothing finer.
        return medium(context, BlockIo.FLUSH, lba, count, false);
    }

    private int unmap(final ScsiIo io, final ScsiContext context)
    {
        final byte[] cdb = io.cdb();
        if ((cdb[1] & 0x01) != 0)
        {
            // ANCHOR: no anchored state on this device.
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final int parameterLength = u16(cdb, 7);
        if (parameterLength == 0)
        {
            return good(context, 0, false);
        }
        final byte[] list = context.scratch;
        final int available = (int)Math.min(Math.min(parameterLength, io.dataOut().totalLength()), list.length);
        if (parameterLength < 8 || available < 8)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
        }
        io.dataOut().copyOut(0, list, 0, available);
        final int dataLength = u16(list, 0);
        final int descriptorBytes = u16(list, 2);
        if (dataLength < 6 || descriptorBytes > dataLength - 6 || descriptorBytes > available - 8)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
        }
        // A trailing partial descriptor is ignored (SBC-3 5.28.2).
        final int descriptors = descriptorBytes / 16;
        if (descriptors > maxUnmapDescriptors)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
        }
        long total = 0;
        for (int i = 0; i < descriptors; i++)
        {
            final int at = 8 + i * 16;
            final long lba = u64(list, at);
            final long count = u32(list, at + 8);
            if (!inRange(lba, count))
            {
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
            }
            total += count;
        }
        if (total > maxUnmapBlocks())
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
        }
        // Validated as a whole first, so a bad descriptor leaves the medium untouched. The
        // descriptors stay in the context's scratch for the caller (unmapLba/unmapBlocks).
        context.unmapCount = descriptors;
        if (total == 0)
        {
            context.transferred = available;
            return ScsiIo.packResult(STATUS_GOOD, VirtioScsiResponse.OK, 0);
        }
        context.unmapParameterBytes = available;
        return medium(context, BlockIo.DISCARD, 0, total, false);
    }

    // ---------------------------------------------------------------- the medium

    private static int medium(final ScsiContext context, final int operation, final long lba, final long blocks,
        final boolean shortBuffer)
    {
        if (operation != BlockIo.READ && operation != BlockIo.WRITE)
        {
            context.mediumBytes = 0;
        }
        context.mediumOperation = operation;
        context.mediumLba = lba;
        context.mediumBlocks = blocks;
        context.mediumShort = shortBuffer;
        return MEDIUM;
    }

    /**
     * The SCSI result of the medium operation {@link #execute} asked for, from its {@link CardStatus}:
     * OK is GOOD (OVERRUN for a short data-in buffer); IO_ERROR is TRANSPORT_FAILURE and CANCELLED
     * (a fence) RESET, both path failures another path may retry; UNSUPPORTED is CHECK CONDITION
     * INVALID COMMAND OPERATION CODE; anything else CHECK CONDITION LBA OUT OF RANGE.
     */
    public static int completeMedium(final ScsiIo io, final ScsiContext context, final int cardStatus)
    {
        context.senseLength = 0;
        switch (cardStatus)
        {
            case CardStatus.OK:
                if (context.mediumOperation == BlockIo.DISCARD)
                {
                    context.transferred = context.unmapParameterBytes;
                    return ScsiIo.packResult(STATUS_GOOD, VirtioScsiResponse.OK, 0);
                }
                final boolean data = context.mediumOperation == BlockIo.READ || context.mediumOperation == BlockIo.WRITE;
                return good(context, data ? (int)context.mediumBytes : 0, context.mediumShort);
            case CardStatus.IO_ERROR:
                context.transferred = 0;
                return ScsiIo.packResult(0, VirtioScsiResponse.TRANSPORT_FAILURE, 0);
            case CardStatus.CANCELLED:
                context.transferred = 0;
                return ScsiIo.packResult(0, VirtioScsiResponse.RESET, 0);
            case CardStatus.UNSUPPORTED:
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
            default:
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        }
    }

    private int readCapacity10(final ScsiIo io, final ScsiContext context)
    {
        final byte[] cdb = io.cdb();
        if ((cdb[8] & 0x01) == 0 && u32(cdb, 2) != 0)
        {
            // With PMI clear the LBA field must be zero (SBC-3 5.16.1).
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final byte[] d = context.scratch;
        putU32(d, 0, Math.min(sectors - 1, 0xFFFF_FFFFL));
        putU32(d, 4, BLOCK_SIZE);
        return dataIn(io, context, 8, 8);
    }

    private int readCapacity16(final ScsiIo io, final ScsiContext context)
    {
        final byte[] d = context.scratch;
        Arrays.fill(d, 0, 32, (byte)0);
        putU64(d, 0, sectors - 1);
        putU32(d, 8, BLOCK_SIZE);
        // LBPME: thin provisioned (UNMAP works); LBPRZ: unmapped blocks read as zeroes.
        d[14] = (byte)0xC0;
        return dataIn(io, context, 32, u32(io.cdb(), 10));
    }

    int inquiry(final ScsiIo io, final ScsiContext context, final boolean present)
    {
        final byte[] cdb = io.cdb();
        final int allocation = u16(cdb, 3);
        final boolean evpd = (cdb[1] & 0x01) != 0;
        final int page = cdb[2] & 0xFF;
        if ((cdb[1] & 0x02) != 0 || (!evpd && page != 0))
        {
            // CMDDT is obsolete; a page code without EVPD is invalid (SPC-4 6.6.1).
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final byte[] d = context.scratch;
        Arrays.fill(d, 0, 256, (byte)0);
        // Peripheral qualifier 011b / type 1Fh: no logical unit here (SPC-4 6.6.2).
        final byte peripheral = present ? 0x00 : (byte)0x7F;
        int length;
        if (!evpd)
        {
            d[0] = peripheral;
            d[2] = 0x06;             // SPC-4
            d[3] = 0x12;             // HISUP, response data format 2
            d[7] = 0x02;             // CMDQUE
            System.arraycopy(VENDOR, 0, d, 8, 8);
            System.arraycopy(product, 0, d, 16, 16);
            System.arraycopy(REVISION, 0, d, 32, 4);
            length = 36;
            d[4] = (byte)(length - 5);
            return dataIn(io, context, length, allocation);
        }
        if (!present)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
        }
        d[0] = peripheral;
        d[1] = (byte)page;
        switch (page)
        {
            case 0x00:
                for (int i = 0; i < VPD_PAGES.length; i++)
                {
                    d[4 + i] = (byte)VPD_PAGES[i];
                }
                length = 4 + VPD_PAGES.length;
                break;
            case 0x80:
                System.arraycopy(serial, 0, d, 4, serial.length);
                length = 4 + serial.length;
                break;
            case 0x83:
                length = deviceIdentification(d);
                break;
            case 0xB0:
                length = 64;
                putU16(d, 6, 1);                                  // optimal transfer length granularity
                putU32(d, 8, maxTransferBlocks);
                putU32(d, 12, maxTransferBlocks);
                putU32(d, 20, maxUnmapBlocks());
                putU32(d, 24, maxUnmapDescriptors);
                putU32(d, 28, 1);                                 // optimal unmap granularity
                break;
            case 0xB1:
                length = 64;
                putU16(d, 4, 1);                                  // non-rotating medium
                break;
            case 0xB2:
                length = 8;
                d[5] = (byte)0x84;                                // LBPU, LBPRZ
                d[6] = 0x02;                                      // thin provisioned
                break;
            default:
                return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        putU16(d, 2, length - 4);
        return dataIn(io, context, length, allocation);
    }

    private int deviceIdentification(final byte[] d)
    {
        int at = 4;
        // NAA designator, binary code set, associated with the logical unit.
        d[at] = 0x01;
        d[at + 1] = 0x03;
        d[at + 3] = 8;
        putU64(d, at + 4, naa);
        at += 12;
        // T10 vendor id designator: vendor followed by the serial, ASCII.
        d[at] = 0x02;
        d[at + 1] = 0x01;
        d[at + 3] = (byte)(8 + serial.length);
        System.arraycopy(VENDOR, 0, d, at + 4, 8);
        System.arraycopy(serial, 0, d, at + 12, serial.length);
        at += 12 + serial.length;
        return at;
    }

    private int modeSense(final ScsiIo io, final ScsiContext context, final boolean ten)
    {
        final byte[] cdb = io.cdb();
        final boolean dbd = (cdb[1] & 0x08) != 0;
        final boolean longLba = ten && (cdb[1] & 0x10) != 0;
        final int control = (cdb[2] & 0xC0) >>> 6;
        final int page = cdb[2] & 0x3F;
        final int subpage = cdb[3] & 0xFF;
        final int allocation = ten ? u16(cdb, 7) : cdb[4] & 0xFF;
        if (control == 3)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
        }
        if (subpage != 0 && !(page == 0x3F && subpage == 0xFF))
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        if (page != 0x01 && page != 0x08 && page != 0x0A && page != 0x3F)
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final byte[] d = context.scratch;
        Arrays.fill(d, 0, 256, (byte)0);
        final int header = ten ? 8 : 4;
        final int blockDescriptor = dbd ? 0 : longLba ? 16 : 8;
        int at = header;
        if (blockDescriptor == 8)
        {
            putU32(d, at, Math.min(sectors, 0xFFFF_FFFFL));
            putU32(d, at + 4, BLOCK_SIZE);                        // byte 4 reserved, 5..7 block length
        }
        else if (blockDescriptor == 16)
        {
            putU64(d, at, sectors);
            putU32(d, at + 12, BLOCK_SIZE);
        }
        at += blockDescriptor;
        final boolean changeable = control == 1;
        if (page == 0x01 || page == 0x3F)
        {
            d[at] = 0x01;
            d[at + 1] = 0x0A;
            at += 12;
        }
        if (page == 0x08 || page == 0x3F)
        {
            d[at] = 0x08;
            d[at + 1] = 0x12;
            d[at + 2] = changeable ? 0 : (byte)0x04;              // WCE: SYNCHRONIZE CACHE is meaningful
            at += 20;
        }
        if (page == 0x0A || page == 0x3F)
        {
            d[at] = 0x0A;
            d[at + 1] = 0x0A;
            d[at + 3] = changeable ? 0 : (byte)0x10;              // unrestricted reordering
            at += 12;
        }
        if (ten)
        {
            putU16(d, 0, at - 2);
            d[3] = (byte)(fua ? 0x10 : 0);                        // DPOFUA
            d[4] = (byte)(longLba ? 0x01 : 0x00);
            putU16(d, 6, blockDescriptor);
        }
        else
        {
            d[0] = (byte)(at - 1);
            d[2] = (byte)(fua ? 0x10 : 0);
            d[3] = (byte)blockDescriptor;
        }
        return dataIn(io, context, at, allocation);
    }

    int requestSense(final ScsiIo io, final ScsiContext context, final int key, final int asc)
    {
        final byte[] cdb = io.cdb();
        if ((cdb[1] & 0x01) != 0)
        {
            // DESC: only fixed-format sense is supported.
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        ScsiSense.write(context.scratch, 0, key, asc, 0);
        return dataIn(io, context, ScsiSense.LENGTH, cdb[4] & 0xFF);
    }

    /** REPORT LUNS for a target with LUNs 0..lunCount-1. */
    static int reportLuns(final ScsiIo io, final ScsiContext context, final int lunCount)
    {
        final byte[] cdb = io.cdb();
        final int select = cdb[2] & 0xFF;
        final long allocation = u32(cdb, 6);
        if (allocation < 16 || (select != 0x00 && select != 0x02))
        {
            return checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        }
        final byte[] d = context.scratch;
        final int listed = Math.min(lunCount, (d.length - 8) / 8);
        Arrays.fill(d, 0, 8 + listed * 8, (byte)0);
        putU32(d, 0, 8L * lunCount);
        for (int lun = 0; lun < listed; lun++)
        {
            final int at = 8 + lun * 8;
            if (lun < 256)
            {
                d[at + 1] = (byte)lun;                            // peripheral device addressing
            }
            else
            {
                d[at] = (byte)(0x40 | (lun >>> 8) & 0x3F);        // flat space addressing
                d[at + 1] = (byte)lun;
            }
        }
        return dataIn(io, context, 8 + listed * 8, allocation);
    }

    // ---------------------------------------------------------------- results

    private long maxUnmapBlocks()
    {
        return Math.min(sectors, 0xFFFF_FFFFL);
    }

    /** Sends {@code length} bytes of scratch, cut to the allocation length and to the data-in buffer. */
    private static int dataIn(final ScsiIo io, final ScsiContext context, final int length, final long allocation)
    {
        final int wanted = (int)Math.min(length, allocation);
        final int moved = (int)Math.min(wanted, io.dataIn().totalLength());
        if (moved > 0)
        {
            io.dataIn().copyIn(0, context.scratch, 0, moved);
        }
        return good(context, moved, moved < wanted);
    }

    private static int good(final ScsiContext context, final int moved, final boolean overrun)
    {
        context.transferred = moved;
        return ScsiIo.packResult(STATUS_GOOD, overrun ? VirtioScsiResponse.OVERRUN : VirtioScsiResponse.OK, 0);
    }

    static int checkCondition(final ScsiIo io, final ScsiContext context, final int key, final int asc)
    {
        context.transferred = 0;
        context.senseLength = ScsiSense.write(io.sense(), 0, key, asc, 0);
        return ScsiIo.packResult(STATUS_CHECK_CONDITION, VirtioScsiResponse.OK, context.senseLength);
    }

    // ---------------------------------------------------------------- big-endian fields

    public static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    public static long u32(final byte[] b, final int at)
    {
        return (long)u16(b, at) << 16 | u16(b, at + 2);
    }

    public static long u64(final byte[] b, final int at)
    {
        return u32(b, at) << 32 | u32(b, at + 4);
    }

    public static void putU16(final byte[] b, final int at, final int value)
    {
        b[at] = (byte)(value >>> 8);
        b[at + 1] = (byte)value;
    }

    public static void putU32(final byte[] b, final int at, final long value)
    {
        putU16(b, at, (int)(value >>> 16));
        putU16(b, at + 2, (int)value);
    }

    public static void putU64(final byte[] b, final int at, final long value)
    {
        putU32(b, at, value >>> 32);
        putU32(b, at + 4, value);
    }

    private static byte[] ascii(final String text, final int width)
    {
        final byte[] padded = new byte[width];
        Arrays.fill(padded, (byte)' ');
        final byte[] raw = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(raw, 0, padded, 0, Math.min(width, raw.length));
        return padded;
    }
}
