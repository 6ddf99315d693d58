package dev.braid.virtio.fuzz;

import dev.braid.virtio.device.FuzzChain;
import dev.braid.virtio.scsi.ScsiLun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Regenerates the committed seed corpora of the parser fuzz tests. Run only on request:
 * {@code ./mvnw -o -q -pl virtio-core test -Dtest=SeedCorpusWriter -Dbraid.writeSeeds=src/test/resources}.
 * Each seed is a {@link FuzzChain} input: a meaningful request, well-formed or broken in one way.
 */
@EnabledIfSystemProperty(named = "braid.writeSeeds", matches = ".+")
class SeedCorpusWriter
{
    /** Lays segments out in an 8 KiB image; a segment may be pinned to an address. */
    static final class Seed
    {
        private final byte[] image = new byte[2 * FuzzChain.REGION];
        private final List<int[]> segments = new ArrayList<>();
        private int next = 0x100;

        Seed readable(final byte[] bytes)
        {
            return at(next, bytes);
        }

        Seed at(final int address, final byte[] bytes)
        {
            System.arraycopy(bytes, 0, image, address, bytes.length);
            segments.add(new int[] {address, bytes.length, 0});
            next = Math.max(next, address + bytes.length + 32);
            return this;
        }

        Seed split(final byte[] bytes, final int cut)
        {
            final byte[] a = new byte[cut];
            final byte[] b = new byte[bytes.length - cut];
            System.arraycopy(bytes, 0, a, 0, cut);
            System.arraycopy(bytes, cut, b, 0, b.length);
            return readable(a).readable(b);
        }

        Seed writable(final int length)
        {
            segments.add(new int[] {next, length, 1});
            next += length + 32;
            return this;
        }

        Seed raw(final int address, final int length, final int flags)
        {
            segments.add(new int[] {address, length, flags});
            return this;
        }

        byte[] encode(final int options)
        {
            int used = image.length;
            while (used > 0 && image[used - 1] == 0)
            {
                used--;
            }
            final byte[] trimmed = new byte[used];
            System.arraycopy(image, 0, trimmed, 0, used);
            return FuzzChain.encode(options, segments.toArray(new int[0][]), trimmed);
        }
    }

    private static ByteBuffer le(final int length)
    {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] blk(final int type, final long sector)
    {
        return le(16).putInt(type).putInt(0).putLong(sector).array();
    }

    private static byte[] dwz(final long sector, final int sectors, final int flags)
    {
        return le(16).putLong(sector).putInt(sectors).putInt(flags).array();
    }

    private static byte[] netHeader(final int flags, final int gso, final int gsoSize, final int csumStart, final int csumOffset)
    {
        return le(12).put((byte)flags).put((byte)gso).putShort((short)54).putShort((short)gsoSize)
            .putShort((short)csumStart).putShort((short)csumOffset).putShort((short)0).array();
    }

    private static byte[] ctrl(final int cls, final int cmd, final byte[] payload)
    {
        final byte[] out = new byte[2 + payload.length];
        out[0] = (byte)cls;
        out[1] = (byte)cmd;
        System.arraycopy(payload, 0, out, 2, payload.length);
        return out;
    }

    private static final int SCSI_CDB = 20;
    private static final int SCSI_SENSE = 24;
    /** INOUT, cdb_size 6 + 2 * 7 = 20, sense_size 4 * 6 = 24. */
    private static final int SCSI_OPTIONS = 1 | 7 << 1 | 6 << 4;

    private static byte[] scsiCmd(final long lun, final int opcode)
    {
        final byte[] cdb = new byte[SCSI_CDB];
        cdb[0] = (byte)opcode;
        return le(19 + SCSI_CDB).putLong(lun).putLong(42).put((byte)0).put((byte)0).put((byte)0).put(cdb).array();
    }

    private static byte[] tmf(final int subtype, final long lun)
    {
        return le(24).putInt(0).putInt(subtype).putLong(lun).putLong(42).array();
    }

    private static byte[] an(final int type, final long lun)
    {
        return le(16).putInt(type).putLong(lun).putInt(16).array();
    }

    private static void write(final String dir, final String name, final byte[] data) throws IOException
    {
        final Path path = Path.of(System.getProperty("braid.writeSeeds"), dir, name);
        Files.createDirectories(path.getParent());
        Files.write(path, data);
    }

    @Test
    void writeSeeds() throws IOException
    {
        final String blk = "dev/braid/virtio/blk/BlkRequestParserFuzzTestInputs/parse";
        final int all = 0xFE; // flush, discard, write zeroes; capacity 128 sectors
        write(blk, "read", new Seed().readable(blk(0, 2)).writable(512).writable(1).encode(all));
        write(blk, "write-split-header", new Seed().split(blk(1, 4), 5).readable(new byte[1024]).writable(1).encode(all));
        write(blk, "write-read-only", new Seed().readable(blk(1, 4)).readable(new byte[512]).writable(1).encode(all | 1));
        write(blk, "flush", new Seed().readable(blk(4, 0)).writable(1).encode(all));
        write(blk, "get-id", new Seed().readable(blk(8, 0)).writable(20).writable(1).encode(all));
        write(blk, "discard", new Seed().readable(blk(11, 0)).readable(dwz(0, 8, 0)).readable(dwz(64, 8, 0))
            .writable(1).encode(all));
        write(blk, "write-zeroes-unmap", new Seed().readable(blk(13, 0)).readable(dwz(8, 16, 1)).writable(1).encode(all));
        write(blk, "header-across-regions", new Seed().at(FuzzChain.REGION - 6, blk(0, 0)).writable(1025).encode(all));
        write(blk, "read-past-capacity", new Seed().readable(blk(0, 127)).writable(1025).encode(all));
        write(blk, "no-writable", new Seed().readable(blk(0, 0)).readable(new byte[512]).encode(all));
        write(blk, "status-outside-memory", new Seed().readable(blk(4, 0)).raw(0xFFF0, 1, 1).encode(all));
        write(blk, "unsupported-type", new Seed().readable(blk(10, 0)).writable(49).encode(all));

        final String tx = "dev/braid/virtio/net/NetParserFuzzTestInputs/tx";
        final int offloads = 0x03; // CSUM (bit 0) and HOST_TSO4
        write(tx, "plain", new Seed().readable(netHeader(0, 0, 0, 0, 0)).readable(new byte[60]).encode(offloads));
        write(tx, "split-header", new Seed().split(netHeader(1, 0, 0, 34, 16), 7).readable(new byte[74]).encode(offloads));
        write(tx, "gso-tcpv4", new Seed().readable(netHeader(1, 1, 1448, 34, 16)).readable(new byte[3000]).encode(offloads));
        write(tx, "too-long", new Seed().readable(netHeader(0, 0, 0, 0, 0)).readable(new byte[1600]).encode(offloads));
        write(tx, "bad-csum", new Seed().readable(netHeader(1, 0, 0, 58, 6)).readable(new byte[60]).encode(offloads));
        write(tx, "writable", new Seed().readable(netHeader(0, 0, 0, 0, 0)).writable(60).encode(offloads));

        final String ctl = "dev/braid/virtio/net/NetParserFuzzTestInputs/ctrl";
        final int ctrlAll = 0xFF; // CTRL_VQ .. CTRL_MAC_ADDR
        write(ctl, "mq-pairs", new Seed().readable(ctrl(4, 0, new byte[] {2, 0})).writable(1).encode(ctrlAll));
        write(ctl, "rx-promisc", new Seed().readable(ctrl(0, 0, new byte[0])).readable(new byte[] {1}).writable(1).encode(ctrlAll));
        write(ctl, "mac-table", new Seed().readable(ctrl(1, 0, new byte[0]))
            .readable(le(10).putInt(1).put(new byte[] {0x52, 0x54, 0, 1, 2, 3}).array())
            .readable(le(4).putInt(0).array()).writable(1).encode(ctrlAll));
        write(ctl, "mac-addr", new Seed().readable(ctrl(1, 1, new byte[] {0x52, 0x54, 0, 1, 2, 3})).writable(1).encode(ctrlAll));
        write(ctl, "announce-ack", new Seed().readable(ctrl(3, 0, new byte[0])).writable(1).encode(ctrlAll));
        write(ctl, "vlan-add", new Seed().readable(ctrl(2, 0, new byte[] {100, 0})).writable(1).encode(ctrlAll));
        write(ctl, "no-ack", new Seed().readable(ctrl(4, 0, new byte[] {1, 0})).encode(ctrlAll));

        final String cmd = "dev/braid/virtio/scsi/ScsiRequestParserFuzzTestInputs/command";
        final long lun = ScsiLun.encode(1, 2);
        write(cmd, "read", new Seed().readable(scsiCmd(lun, 0x28)).writable(12 + SCSI_SENSE).writable(512).encode(SCSI_OPTIONS));
        write(cmd, "write-split", new Seed().split(scsiCmd(lun, 0x2A), 11).readable(new byte[512]).writable(12 + SCSI_SENSE)
            .encode(SCSI_OPTIONS));
        write(cmd, "bidirectional", new Seed().readable(scsiCmd(lun, 0x53)).readable(new byte[64])
            .writable(12 + SCSI_SENSE + 64).encode(SCSI_OPTIONS));
        write(cmd, "bad-lun", new Seed().readable(scsiCmd(0x0102, 0)).writable(12 + SCSI_SENSE).encode(SCSI_OPTIONS));
        write(cmd, "short-request", new Seed().readable(new byte[19]).writable(12 + SCSI_SENSE).encode(SCSI_OPTIONS));
        write(cmd, "no-response-room", new Seed().readable(scsiCmd(lun, 0)).writable(8).encode(SCSI_OPTIONS));

        final String control = "dev/braid/virtio/scsi/ScsiRequestParserFuzzTestInputs/control";
        write(control, "abort-task", new Seed().readable(tmf(0, lun)).writable(1).encode(SCSI_OPTIONS));
        write(control, "lun-reset-split", new Seed().split(tmf(5, lun), 9).writable(1).encode(SCSI_OPTIONS));
        write(control, "bad-subtype", new Seed().readable(tmf(99, lun)).writable(1).encode(SCSI_OPTIONS));
        write(control, "an-query", new Seed().readable(an(1, lun)).writable(5).encode(SCSI_OPTIONS));
        write(control, "an-bad-lun", new Seed().readable(an(2, 0)).writable(5).encode(SCSI_OPTIONS));
        write(control, "unknown-type", new Seed().readable(le(8).putInt(7).array()).writable(4).encode(SCSI_OPTIONS));
    }
}
