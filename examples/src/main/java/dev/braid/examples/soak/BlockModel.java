package dev.braid.examples.soak;

import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.ScsiDescriptor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference model of a disk as the guest may observe it, for virtio-blk and virtio-scsi
 * requests parsed from the posted chains (blk: header, data, status; scsi: request + CDB with
 * READ/WRITE(10)/(16), data-out, response, data-in), 512-byte sectors, over every guest queue of
 * one device (one shared disk).
 *
 * <p>The rule, per sector of a read that completed successfully: the data is that of the last
 * write that completed successfully before the read was posted (the initial zeroes if none), or of
 * a write that was pending at any moment while the read was (posted before the read completed and
 * completed after it was posted). A write that completed with an error may or may not have reached
 * the disk: its sectors hold anything until the next successful write completes to them. For scsi,
 * success is response OK with status GOOD; every other response is an error here, ABORTED (ABORT
 * TASK) and RESET (a LUN reset, which a guest retries) included, since the model does not know
 * whether the device ended the write before or after it reached the medium. Each
 * sector is compared by a 64-bit hash of its 512 bytes.
 */
public final class BlockModel extends GuestModel
{
    public enum Format
    {
        BLK, SCSI
    }

    private static final int SECTOR = 512;
    private static final long ZERO = hash(new byte[SECTOR], 0, SECTOR);

    private final Format format;
    private final Map<Long, Sector> sectors = new HashMap<>();
    private final byte[] sectorBytes = new byte[SECTOR];
    private long reads;
    private long writes;
    private long badReads;

    /** Per-sector state. */
    private static final class Sector
    {
        long committed = ZERO;
        boolean undefined;
        final List<Request> pendingWrites = new ArrayList<>(2);
        final List<Request> pendingReads = new ArrayList<>(2);
    }

    /** A parsed read or write. */
    private static final class Request
    {
        boolean write;
        long sector;
        int count;
        /** Writes: the hash of each sector's data. */
        long[] data;
        /** Reads: per sector, the hashes allowed, and whether anything is. */
        long[][] allowed;
        int[] allowedCount;
        boolean[] any;
        /** blk: the status byte; scsi: the response. */
        long statusGpa;

        void allow(final int i, final long h)
        {
            if (allowedCount[i] == allowed[i].length)
            {
                allowed[i] = Arrays.copyOf(allowed[i], allowed[i].length * 2);
            }
            allowed[i][allowedCount[i]++] = h;
        }

        boolean allows(final int i, final long h)
        {
            if (any[i])
            {
                return true;
            }
            for (int k = 0; k < allowedCount[i]; k++)
            {
                if (allowed[i][k] == h)
                {
                    return true;
                }
            }
            return false;
        }
    }

    public BlockModel(final Format format)
    {
        this.format = format;
    }

    private Sector sector(final long s)
    {
        return sectors.computeIfAbsent(s, k -> new Sector());
    }

    protected void posted(final Posted p, final GuestMemory memory)
    {
        final Request r = format == Format.BLK ? parseBlk(p, memory) : parseScsi(p, memory);
        if (r == null)
        {
            return;
        }
        p.request = r;
        if (r.write)
        {
            final byte[] data = gather(p, memory, 1, p.count(), false, (long)r.count * SECTOR);
            r.data = new long[r.count];
            for (int i = 0; i < r.count; i++)
            {
                r.data[i] = (i + 1) * SECTOR <= data.length ? hash(data, i * SECTOR, SECTOR) : 0;
                final Sector s = sector(r.sector + i);
                s.pendingWrites.add(r);
                for (final Request read : s.pendingReads)
                {
                    read.allow((int)(r.sector + i - read.sector), r.data[i]);
                }
            }
        }
        else
        {
            r.allowed = new long[r.count][2];
            r.allowedCount = new int[r.count];
            r.any = new boolean[r.count];
            for (int i = 0; i < r.count; i++)
            {
                final Sector s = sector(r.sector + i);
                if (s.undefined)
                {
                    r.any[i] = true;
                }
                else
                {
                    r.allow(i, s.committed);
                }
                for (final Request w : s.pendingWrites)
                {
                    r.allow(i, w.data[(int)(r.sector + i - w.sector)]);
                }
                s.pendingReads.add(r);
            }
        }
    }

    protected void completed(final Posted p, final int length, final GuestMemory memory)
    {
        final Request r = (Request)p.request;
        if (r == null)
        {
            return;
        }
        final boolean good = format == Format.BLK ? (memory.getByte(r.statusGpa) & 0xFF) == 0 :
            (memory.getByte(r.statusGpa + ScsiDescriptor.RESP_RESPONSE_OFFSET) & 0xFF) == 0 &&
            (memory.getByte(r.statusGpa + ScsiDescriptor.RESP_STATUS_OFFSET) & 0xFF) == 0;
        if (r.write)
        {
            writes++;
            for (int i = 0; i < r.count; i++)
            {
                final Sector s = sector(r.sector + i);
                s.pendingWrites.remove(r);
                if (good)
                {
                    s.committed = r.data[i];
                    s.undefined = false;
                }
                else
                {
                    s.undefined = true;
                }
            }
            return;
        }
        reads++;
        final byte[] data = good ? readData(p, memory, r) : null;
        int wrong = 0;
        long firstWrong = -1;
        for (int i = 0; i < r.count; i++)
        {
            sector(r.sector + i).pendingReads.remove(r);
            if (data == null)
            {
                continue;
            }
            checked++;
            final long h = (i + 1) * SECTOR <= data.length ? hash(data, i * SECTOR, SECTOR) : 1;
            if (!r.allows(i, h))
            {
                wrong++;
                if (firstWrong < 0)
                {
                    firstWrong = r.sector + i;
                }
            }
        }
        if (wrong > 0)
        {
            badReads++;
            violation("queue " + p.queue + " id " + p.id + ": read of " + r.count + " sector(s) at " + r.sector + ": " +
                wrong + " sector(s) hold data no write explains (first sector " + firstWrong + ": " +
                describe(data, (int)(firstWrong - r.sector)) + ")");
        }
    }

    private static String describe(final byte[] data, final int i)
    {
        final int at = i * SECTOR;
        if (at + 16 > data.length)
        {
            return "short";
        }
        boolean same = true;
        for (int k = at; k < at + SECTOR && k < data.length; k++)
        {
            same &= data[k] == data[at];
        }
        if (same)
        {
            return String.format("every byte 0x%02X", data[at] & 0xFF);
        }
        long a = 0;
        long b = 0;
        for (int k = 7; k >= 0; k--)
        {
            a = a << 8 | (data[at + k] & 0xFF);
            b = b << 8 | (data[at + 8 + k] & 0xFF);
        }
        return "words " + a + ", " + b;
    }

    private byte[] readData(final Posted p, final GuestMemory memory, final Request r)
    {
        if (format == Format.BLK)
        {
            // Data: the writable elements before the status element.
            return gather(p, memory, 1, p.count() - 1, true, (long)r.count * SECTOR);
        }
        // scsi: the first writable element is the response; data-in follows it.
        int resp = -1;
        for (int i = 0; i < p.count(); i++)
        {
            if (p.writable[i])
            {
                resp = i;
                break;
            }
        }
        return gather(p, memory, resp + 1, p.count(), true, (long)r.count * SECTOR);
    }

    private static Request parseBlk(final Posted p, final GuestMemory memory)
    {
        if (p.count() < 2 || p.writable[0] || p.length[0] < 16)
        {
            return null;
        }
        final int type = memory.getInt(p.gpa[0]);
        if (type != 0 && type != 1)
        {
            return null;
        }
        final Request r = new Request();
        r.write = type == 1;
        r.sector = memory.getLong(p.gpa[0] + 8);
        long dataBytes = 0;
        for (int i = 1; i < p.count() - 1; i++)
        {
            dataBytes += p.length[i];
        }
        r.count = (int)(dataBytes / SECTOR);
        final int last = p.count() - 1;
        r.statusGpa = p.gpa[last] + p.length[last] - 1;
        return r.count > 0 ? r : null;
    }

    private Request parseScsi(final Posted p, final GuestMemory memory)
    {
        if (p.count() < 2 || p.writable[0])
        {
            return null;
        }
        final long cdb = p.gpa[0] + ScsiDescriptor.CMD_CDB_OFFSET;
        final int op = memory.getByte(cdb) & 0xFF;
        final Request r = new Request();
        switch (op)
        {
            case 0x28:
            case 0x2A:
                r.sector = bigEndian(memory, cdb + 2, 4);
                r.count = (int)bigEndian(memory, cdb + 7, 2);
                break;
            case 0x88:
            case 0x8A:
                r.sector = bigEndian(memory, cdb + 2, 8);
                r.count = (int)bigEndian(memory, cdb + 10, 4);
                break;
            default:
                return null;
        }
        r.write = op == 0x2A || op == 0x8A;
        for (int i = 0; i < p.count(); i++)
        {
            if (p.writable[i])
            {
                r.statusGpa = p.gpa[i];
                break;
            }
        }
        return r.count > 0 && r.statusGpa != 0 ? r : null;
    }

    private static long bigEndian(final GuestMemory memory, final long gpa, final int length)
    {
        long v = 0;
        for (int i = 0; i < length; i++)
        {
            v = v << 8 | (memory.getByte(gpa + i) & 0xFF);
        }
        return v;
    }

    public long reads()
    {
        return reads;
    }

    public long writes()
    {
        return writes;
    }

    /** Successful reads with at least one sector no allowed write explains. */
    public long badReads()
    {
        return badReads;
    }
}
