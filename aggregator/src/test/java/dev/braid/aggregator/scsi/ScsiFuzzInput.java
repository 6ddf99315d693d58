package dev.braid.aggregator.scsi;

import dev.braid.testkit.driver.RingLayout;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.braid.virtio.queue.SplitRingDescriptor.*;

/**
 * The byte format of {@link ScsiFuzzTest} inputs, its decoder and the writer of the seed corpus
 * ({@code java dev.braid.aggregator.scsi.ScsiFuzzInput aggregator/src/test/resources} with the test
 * classpath). Bytes past the end read as zero.
 *
 * <pre>
 * u8 control heads (mod 9), u8 request heads (mod 9)
 * 2 x 8 descriptors (control table, then request table), each:
 *   u8 sel: bits 0-2 flags (NEXT, WRITE, INDIRECT); bit 6: length has a high u16; bit 7: address is a raw u32
 *   address: u32 raw GPA, or u16 offset into the arena
 *   u16 length (low), [u16 length (high)]
 *   u8 next (mod 16: 8..15 are out of range)
 * control heads then request heads: u8 each (mod 16)
 * chunks until the end: u16 arena offset, u8 length, bytes
 * </pre>
 */
final class ScsiFuzzInput
{
    static final int SIZE = 8;
    static final long CONTROL_RING = 0x0000;
    static final long EVENT_RING = 0x1000;
    static final long REQUEST_RING = 0x2000;
    static final long EVENT_BUFFERS = 0x3000;
    static final long ARENA = 0x4000;
    static final int MEMORY = 0x14000;

    private final byte[] data;
    private int position;

    ScsiFuzzInput(final byte[] data)
    {
        this.data = data;
    }

    private int u8()
    {
        return position < data.length ? data[position++] & 0xFF : 0;
    }

    private int u16()
    {
        return u8() | u8() << 8;
    }

    private long u32()
    {
        return (u16() | (long)u16() << 16) & 0xFFFF_FFFFL;
    }

    /** Writes both descriptor tables, both avail rings and the buffer contents. */
    void writeRings(final GuestMemory memory, final RingLayout control, final RingLayout request)
    {
        final int controlHeads = u8() % (SIZE + 1);
        final int requestHeads = u8() % (SIZE + 1);
        writeTable(memory, control.descGpa());
        writeTable(memory, request.descGpa());
        writeAvail(memory, control.availGpa(), controlHeads);
        writeAvail(memory, request.availGpa(), requestHeads);
        while (position < data.length)
        {
            final int offset = u16();
            final int length = u8();
            for (int i = 0; i < length && position < data.length; i++)
            {
                memory.putByte(ARENA + offset + i < MEMORY ? ARENA + offset + i : ARENA, (byte)u8());
            }
        }
    }

    private void writeTable(final GuestMemory memory, final long table)
    {
        for (int i = 0; i < SIZE; i++)
        {
            final int sel = u8();
            final long addr = (sel & 0x80) != 0 ? u32() : ARENA + u16();
            long len = u16();
            if ((sel & 0x40) != 0)
            {
                len |= (long)u16() << 16;
            }
            final long at = table + (long)i * DESCRIPTOR_LENGTH;
            memory.putLong(at + DESC_ADDR_OFFSET, addr);
            memory.putInt(at + DESC_LEN_OFFSET, (int)len);
            memory.putShort(at + DESC_FLAGS_OFFSET, (short)(sel & 7));
            memory.putShort(at + DESC_NEXT_OFFSET, (short)(u8() & 0xF));
        }
    }

    private void writeAvail(final GuestMemory memory, final long avail, final int heads)
    {
        for (int i = 0; i < heads; i++)
        {
            memory.putShort(avail + AVAIL_RING_OFFSET + (long)i * AVAIL_ELEMENT_LENGTH, (short)(u8() & 0xF));
        }
        memory.putShort(avail + AVAIL_IDX_OFFSET, (short)heads);
    }

    // ---------------------------------------------------------------- seed writer

    /** Builds one input: descriptors, heads and chunks, in the format above. */
    static final class Builder
    {
        private final long[][] tables = new long[2][];
        private final int[][] heads = { new int[0], new int[0] };
        private final ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        private final ByteArrayOutputStream[] descriptors = { new ByteArrayOutputStream(), new ByteArrayOutputStream() };
        private final int[] counts = new int[2];

        /** Descriptor {@code counts[queue]} of queue 0 (control) or 1 (request); raw address when {@code wild}. */
        Builder desc(final int queue, final long addr, final long len, final int flags, final int next, final boolean wild)
        {
            final ByteArrayOutputStream out = descriptors[queue];
            final boolean high = len > 0xFFFF;
            out.write(flags & 7 | (high ? 0x40 : 0) | (wild ? 0x80 : 0));
            if (wild)
            {
                le(out, addr, 4);
            }
            else
            {
                le(out, addr - ARENA, 2);
            }
            le(out, len, 2);
            if (high)
            {
                le(out, len >>> 16, 2);
            }
            out.write(next);
            counts[queue]++;
            return this;
        }

        Builder desc(final int queue, final long addr, final long len, final int flags, final int next)
        {
            return desc(queue, addr, len, flags, next, false);
        }

        Builder heads(final int queue, final int... ids)
        {
            heads[queue] = ids.clone();
            return this;
        }

        Builder chunk(final long gpa, final byte[] bytes)
        {
            le(chunks, gpa - ARENA, 2);
            chunks.write(bytes.length);
            chunks.write(bytes, 0, bytes.length);
            return this;
        }

        byte[] build()
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(heads[0].length);
            out.write(heads[1].length);
            for (int q = 0; q < 2; q++)
            {
                final byte[] d = descriptors[q].toByteArray();
                out.write(d, 0, d.length);
                for (int i = counts[q]; i < SIZE; i++)
                {
                    out.write(new byte[]{ 0, 0, 0, 0, 0, 0 }, 0, 6);
                }
            }
            for (int q = 0; q < 2; q++)
            {
                for (final int h : heads[q])
                {
                    out.write(h);
                }
            }
            final byte[] c = chunks.toByteArray();
            out.write(c, 0, c.length);
            return out.toByteArray();
        }

        private static void le(final ByteArrayOutputStream out, final long value, final int bytes)
        {
            for (int i = 0; i < bytes; i++)
            {
                out.write((int)(value >>> (8 * i)) & 0xFF);
            }
        }
    }

    private static final int REQ = ScsiDescriptor.cmdReqLength(32);
    private static final int RESP = ScsiDescriptor.cmdRespLength(96);

    static byte[] cmd(final long lun, final long tag, final int... cdb)
    {
        final ByteBuffer b = ByteBuffer.allocate(REQ).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(ScsiDescriptor.CMD_LUN_OFFSET, lun).putLong(ScsiDescriptor.CMD_ID_OFFSET, tag);
        for (int i = 0; i < cdb.length; i++)
        {
            b.put(ScsiDescriptor.CMD_CDB_OFFSET + i, (byte)cdb[i]);
        }
        return b.array();
    }

    static byte[] tmf(final int subtype, final long lun, final long tag)
    {
        final ByteBuffer b = ByteBuffer.allocate(ScsiDescriptor.TMF_REQ_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(ScsiDescriptor.TMF_TYPE_OFFSET, VirtioScsi.VIRTIO_SCSI_T_TMF).putInt(ScsiDescriptor.TMF_SUBTYPE_OFFSET, subtype)
            .putLong(ScsiDescriptor.TMF_LUN_OFFSET, lun).putLong(ScsiDescriptor.TMF_ID_OFFSET, tag);
        return b.array();
    }

    static byte[] an(final int type, final long lun, final int events)
    {
        final ByteBuffer b = ByteBuffer.allocate(ScsiDescriptor.AN_REQ_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(ScsiDescriptor.AN_TYPE_OFFSET, type).putLong(ScsiDescriptor.AN_LUN_OFFSET, lun)
            .putInt(ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET, events);
        return b.array();
    }

    static byte[] indirectTable(final long[][] entries)
    {
        final ByteBuffer b = ByteBuffer.allocate(entries.length * DESCRIPTOR_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < entries.length; i++)
        {
            b.putLong(i * DESCRIPTOR_LENGTH + DESC_ADDR_OFFSET, entries[i][0])
                .putInt(i * DESCRIPTOR_LENGTH + DESC_LEN_OFFSET, (int)entries[i][1])
                .putShort(i * DESCRIPTOR_LENGTH + DESC_FLAGS_OFFSET, (short)entries[i][2])
                .putShort(i * DESCRIPTOR_LENGTH + DESC_NEXT_OFFSET, (short)entries[i][3]);
        }
        return b.array();
    }

    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args[0], "dev/braid/aggregator/scsi/ScsiFuzzTestInputs/guestControlledChains");
        Files.createDirectories(dir);
        final long lun = ScsiLun.encode(0, 0);
        final int next = VIRTQ_DESC_F_NEXT;
        final int write = VIRTQ_DESC_F_WRITE;
        final long req = ARENA;
        final long resp = ARENA + 0x100;
        final long buf = ARENA + 0x1000;
        final long tmfReq = ARENA + 0x400;
        final long tmfResp = ARENA + 0x500;
        final int q0 = 0;
        final int q1 = 1;
        // READ (10) of 2 blocks at LBA 5 and WRITE (10) of 1 block, each req | resp | data.
        final byte[] read10 = cmd(lun, 1, 0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0);
        final byte[] write10 = cmd(lun, 2, 0x2A, 0, 0, 0, 0, 9, 0, 0, 1, 0);
        write(dir, "read10", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, resp, RESP, next | write, 2).desc(q1, buf, 1024, write, 0)
            .heads(q1, 0).chunk(req, read10).build());
        write(dir, "write10", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, buf, 512, next, 2).desc(q1, resp, RESP, write, 0)
            .heads(q1, 0).chunk(req, write10).build());
        write(dir, "read-and-write-and-inquiry", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, resp, RESP, next | write, 2).desc(q1, buf, 1024, write, 0)
            .desc(q1, req + 0x40, REQ, next, 4).desc(q1, buf + 0x400, 512, next, 5).desc(q1, resp + 0x80, RESP, write, 0)
            .desc(q1, req + 0x80, REQ, next, 7).desc(q1, buf + 0x800, 96, write, 0)
            .heads(q1, 0, 3, 6).chunk(req, read10).chunk(req + 0x40, write10)
            .chunk(req + 0x80, cmd(lun, 3, 0x12, 0, 0, 0, 96, 0)).build());
        // Reads whose response segment is too short, data-in shorter than the CDB asks, READ(16).
        write(dir, "short-response-and-data", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, resp, 7, next | write, 2).desc(q1, buf, 100, write, 0)
            .desc(q1, req + 0x40, REQ, next, 4).desc(q1, resp + 0x80, RESP, next | write, 5).desc(q1, buf + 0x400, 300, write, 0)
            .heads(q1, 0, 3).chunk(req, read10)
            .chunk(req + 0x40, cmd(lun, 4, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0)).build());
        // ABORT TASK for the tag of a READ in flight, with the read on the request queue.
        write(dir, "abort-task", new Builder()
            .desc(q0, tmfReq, ScsiDescriptor.TMF_REQ_LENGTH, next, 1).desc(q0, tmfResp, 1, write, 0)
            .heads(q0, 0)
            .desc(q1, req, REQ, next, 1).desc(q1, resp, RESP, next | write, 2).desc(q1, buf, 1024, write, 0)
            .heads(q1, 0).chunk(req, read10).chunk(tmfReq, tmf(VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK, lun, 1)).build());
        write(dir, "lun-reset-and-an-query", new Builder()
            .desc(q0, tmfReq, ScsiDescriptor.TMF_REQ_LENGTH, next, 1).desc(q0, tmfResp, 1, write, 0)
            .desc(q0, tmfReq + 0x40, ScsiDescriptor.AN_REQ_LENGTH, next, 3)
            .desc(q0, tmfResp + 0x40, ScsiDescriptor.AN_RESP_LENGTH, write, 0)
            .heads(q0, 0, 2)
            .desc(q1, req, REQ, next, 1).desc(q1, buf, 512, next, 2).desc(q1, resp, RESP, write, 0)
            .heads(q1, 0).chunk(req, write10)
            .chunk(tmfReq, tmf(VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun, 0))
            .chunk(tmfReq + 0x40, an(VirtioScsi.VIRTIO_SCSI_T_AN_QUERY, lun, 0xFF)).build());
        // Malformed chains: a next loop, writable before readable, an address past guest memory,
        // a length that runs off the end, an out-of-range next and head.
        write(dir, "loop", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, resp, RESP, next | write, 0)
            .desc(q0, tmfReq, 24, next, 1).desc(q0, tmfResp, 1, next | write, 0)
            .heads(q1, 0).heads(q0, 0).chunk(req, read10).build());
        write(dir, "writable-before-readable", new Builder()
            .desc(q1, resp, RESP, next | write, 1).desc(q1, req, REQ, 0, 0)
            .desc(q0, tmfResp, 1, next | write, 1).desc(q0, tmfReq, 24, 0, 0)
            .heads(q1, 0).heads(q0, 0).chunk(req, read10)
            .chunk(tmfReq, tmf(VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK, lun, 1)).build());
        write(dir, "outside-memory", new Builder()
            .desc(q1, 0xFFFF_FF00L, REQ, next, 1, true).desc(q1, resp, RESP, write, 0)
            .desc(q1, req, REQ, next, 3).desc(q1, MEMORY - 16, 4096, write, 0, true)
            .desc(q1, req, 0x7FFF_FFFFL, next, 5).desc(q1, resp, 0xFFFF_FFFFL, write, 0)
            .heads(q1, 0, 2, 4)
            .desc(q0, MEMORY - 8, 24, next, 1, true).desc(q0, tmfResp, 1, write, 0)
            .heads(q0, 0).chunk(req, read10).build());
        write(dir, "bad-next-and-head", new Builder()
            .desc(q1, req, REQ, next, 12).desc(q1, resp, RESP, write, 0)
            .heads(q1, 9, 0).desc(q0, tmfReq, 24, next, 15).heads(q0, 14, 0).chunk(req, read10).build());
        // An indirect table holding req | resp | data; and one with a nested indirect entry.
        final long table = ARENA + 0x2000;
        write(dir, "indirect", new Builder()
            .desc(q1, table, 3 * DESCRIPTOR_LENGTH, VIRTQ_DESC_F_INDIRECT, 0)
            .desc(q1, table + 0x100, 2 * DESCRIPTOR_LENGTH, VIRTQ_DESC_F_INDIRECT, 0)
            .heads(q1, 0, 1).chunk(req, read10)
            .chunk(table, indirectTable(new long[][]{ { req, REQ, next, 1 }, { resp, RESP, next | write, 2 },
                { buf, 1024, write, 0 } }))
            .chunk(table + 0x100, indirectTable(new long[][]{ { table, 48, VIRTQ_DESC_F_INDIRECT | next, 1 },
                { resp, RESP, write, 0 } })).build());
        // Header fields the parser must refuse: bad LUN encodings, unknown opcodes, a short header, bad TMF types.
        write(dir, "bad-headers", new Builder()
            .desc(q1, req, REQ, next, 1).desc(q1, resp, RESP, write, 0)
            .desc(q1, req + 0x40, 10, next, 3).desc(q1, resp + 0x80, RESP, write, 0)
            .desc(q1, req + 0x80, REQ, next, 5).desc(q1, resp + 0x100, RESP, next | write, 6)
            .desc(q1, buf, 4096, write, 0)
            .heads(q1, 0, 2, 4)
            .desc(q0, tmfReq, 24, next, 1).desc(q0, tmfResp, 1, write, 0)
            .desc(q0, tmfReq + 0x40, 3, next, 3).desc(q0, tmfResp + 0x40, 0, write, 0)
            .heads(q0, 0, 2)
            .chunk(req, cmd(lun | 0xFFL << 40, 5, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0))
            .chunk(req + 0x40, cmd(lun, 6, 0x28))
            .chunk(req + 0x80, cmd(lun, 7, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF))
            .chunk(tmfReq, tmf(99, lun, 1)).build());
        final SplittableRandom random = new SplittableRandom(2027);
        for (int i = 0; i < 4; i++)
        {
            final byte[] bytes = new byte[200 + random.nextInt(200)];
            for (int b = 0; b < bytes.length; b++)
            {
                bytes[b] = (byte)random.nextInt(256);
            }
            write(dir, "random-" + i, bytes);
        }
    }

    private static void write(final Path dir, final String name, final byte[] bytes) throws IOException
    {
        Files.write(dir.resolve(name), bytes);
    }
}
