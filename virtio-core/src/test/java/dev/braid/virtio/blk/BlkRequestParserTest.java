package dev.braid.virtio.blk;

import dev.braid.virtio.device.TestChain;
import dev.braid.virtio.queue.DescriptorChain;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.braid.virtio.blk.VirtioBlk.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlkRequestParserTest
{
    private static final long CAPACITY = 1 << 16;

    private final TestChain t = TestChain.create();
    private final BlkRequestParser parser = new BlkRequestParser()
        .capacity(CAPACITY)
        .discard(true, 1 << 12, 4)
        .writeZeroes(true, 1 << 12, 2);
    private final BlkRequest request = new BlkRequest();

    @BeforeEach
    void start()
    {
        t.start(5);
    }

    static byte[] header(final long type, final long sector)
    {
        return TestChain.le(16).putInt((int)type).putInt(0).putLong(sector).array();
    }

    static byte[] segments(final long[]... segments)
    {
        final ByteBuffer b = TestChain.le(16 * segments.length);
        for (final long[] s : segments)
        {
            b.putLong(s[0]).putInt((int)s[1]).putInt((int)s[2]);
        }
        return b.array();
    }

    private int parse()
    {
        return parser.parse(t.memory, t.chain, request);
    }

    private void assertComplete(final int status)
    {
        assertEquals(status, parse());
        assertEquals(BlkRequest.COMPLETE, request.outcome());
        assertEquals(status, request.status());
        assertTrue(request.hasStatusByte());
        assertEquals(1, request.usedLength(0));
    }

    @Test
    void readWithSeparateStatusSegment()
    {
        t.readable(header(VIRTIO_BLK_T_IN, 8));
        final long data = t.writable(4096);
        final long status = t.writable(1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(BlkRequest.SUBMIT, request.outcome());
        assertEquals(5, request.id());
        assertEquals(VIRTIO_BLK_T_IN, request.type());
        assertEquals(8, request.sector());
        assertEquals(8, request.sectorCount());
        assertEquals(1, request.dataSegment());
        assertEquals(0, request.dataOffset());
        assertEquals(4096, request.dataLength());
        assertTrue(request.isDataWritable());
        assertEquals(status, request.statusGpa());
        assertEquals(data, t.chain.address(request.dataSegment()));
        assertEquals(4097, request.usedLength(4096));
    }

    @Test
    void readWithStatusSharingTheDataSegment()
    {
        t.readable(header(VIRTIO_BLK_T_IN, 0));
        final long data = t.writable(1024 + 1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(1024, request.dataLength());
        assertEquals(data + 1024, request.statusGpa());
    }

    @Test
    void writeWithHeaderSplitAcrossSegments()
    {
        t.readableSplit(header(VIRTIO_BLK_T_OUT, CAPACITY - 2), 3, 9);
        t.readable(new byte[1024]);
        t.writable(1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(VIRTIO_BLK_T_OUT, request.type());
        assertEquals(CAPACITY - 2, request.sector());
        assertEquals(3, request.dataSegment());
        assertEquals(0, request.dataOffset());
        assertEquals(1024, request.dataLength());
        assertFalse(request.isDataWritable());
    }

    @Test
    void writeWithHeaderAndDataInOneSegment()
    {
        final byte[] both = new byte[16 + 512];
        System.arraycopy(header(VIRTIO_BLK_T_OUT, 1), 0, both, 0, 16);
        t.readable(both);
        t.writable(1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(0, request.dataSegment());
        assertEquals(16, request.dataOffset());
        assertEquals(512, request.dataLength());
    }

    @Test
    void noWritableByteCompletesWithUsedLengthZero()
    {
        t.readable(header(VIRTIO_BLK_T_OUT, 0));
        t.readable(new byte[512]);

        assertEquals(VIRTIO_BLK_S_IOERR, parse());
        assertEquals(BlkRequest.COMPLETE_NO_STATUS, request.outcome());
        assertFalse(request.hasStatusByte());
        assertEquals(0, request.usedLength(0));
    }

    @Test
    void statusByteOutsideGuestMemoryMeansNoStatus()
    {
        t.readable(header(VIRTIO_BLK_T_FLUSH, 0));
        t.add(t.memory.totalLength(), 1, true);

        parse();
        assertEquals(BlkRequest.COMPLETE_NO_STATUS, request.outcome());
    }

    /** A request the parser completes at once, with the status byte, instead of submitting. */
    record Rejected(String name, Consumer<BlkRequestParser> setup, Consumer<TestChain> chain, int status)
    {
        public String toString()
        {
            return name;
        }
    }

    private static Arguments rejected(final String name, final int status, final Consumer<TestChain> chain)
    {
        return rejected(name, parser -> { }, status, chain);
    }

    private static Arguments rejected(
        final String name, final Consumer<BlkRequestParser> setup, final int status, final Consumer<TestChain> chain)
    {
        return Arguments.of(new Rejected(name, setup, chain, status));
    }

    static Stream<Arguments> rejectedRequests()
    {
        final long unmap = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
        return Stream.of(
            rejected("header outside guest memory", VIRTIO_BLK_S_IOERR, t ->
            {
                t.add(t.memory.totalLength() - 8, 16, false);
                t.writable(1);
            }),
            rejected("read with readable data", VIRTIO_BLK_S_IOERR, t ->
            {
                t.readable(header(VIRTIO_BLK_T_IN, 0));
                t.readable(new byte[512]);
                t.writable(513);
            }),
            rejected("write with writable data", VIRTIO_BLK_S_IOERR, t ->
            {
                t.readable(header(VIRTIO_BLK_T_OUT, 0));
                t.readable(new byte[512]);
                t.writable(2);
            }),
            rejected("write without data", VIRTIO_BLK_S_IOERR, t ->
            {
                t.readable(header(VIRTIO_BLK_T_OUT, 0));
                t.writable(1);
            }),
            rejected("write to a read-only disk", parser -> parser.readOnly(true), VIRTIO_BLK_S_IOERR, t ->
            {
                t.readable(header(VIRTIO_BLK_T_OUT, 0));
                t.readable(new byte[512]);
                t.writable(1);
            }),
            rejected("discard not negotiated", parser -> parser.discard(false, 0, 0), VIRTIO_BLK_S_UNSUPP, t ->
                dwz(t, VIRTIO_BLK_T_DISCARD, new long[] {0, 8, 0})),
            rejected("discard with the unmap flag", VIRTIO_BLK_S_UNSUPP, t ->
                dwz(t, VIRTIO_BLK_T_DISCARD, new long[] {0, 8, unmap})),
            rejected("unknown segment flags", VIRTIO_BLK_S_UNSUPP, t ->
                dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, new long[] {0, 8, 2})),
            rejected("too many segments", VIRTIO_BLK_S_IOERR, t ->
                dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, new long[] {0, 8, 0}, new long[] {8, 8, 0}, new long[] {16, 8, 0})),
            rejected("segment over the sector limit", VIRTIO_BLK_S_IOERR, t ->
                dwz(t, VIRTIO_BLK_T_DISCARD, new long[] {0, (1 << 12) + 1, 0})),
            rejected("segment past capacity", VIRTIO_BLK_S_IOERR, t ->
                dwz(t, VIRTIO_BLK_T_DISCARD, new long[] {CAPACITY - 4, 8, 0})),
            rejected("segment whose range overflows", VIRTIO_BLK_S_IOERR, t ->
                dwz(t, VIRTIO_BLK_T_DISCARD, new long[] {-4, 8, 0})));
    }

    /** A discard or write-zeroes request: header, segments, status byte. */
    private static void dwz(final TestChain t, final long type, final long[]... segments)
    {
        t.readable(header(type, 0));
        t.readable(segments(segments));
        t.writable(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedRequests")
    void rejectedRequestsCompleteAtOnceWithTheirStatus(final Rejected rejected)
    {
        rejected.setup().accept(parser);
        rejected.chain().accept(t);
        assertComplete(rejected.status());
    }

    @Test
    void writeZeroesAcceptsTheUnmapFlag()
    {
        dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, new long[] {0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP});
        assertEquals(VIRTIO_BLK_S_OK, parse());
    }

    @Test
    void shortHeaderIsIoError()
    {
        t.readable(new byte[15]);
        t.writable(1);
        assertComplete(VIRTIO_BLK_S_IOERR);
        assertEquals(-1, request.type());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 511, 513, 4095})
    void readOfPartialSectorsIsIoError(final int length)
    {
        t.readable(header(VIRTIO_BLK_T_IN, 0));
        if (length > 0)
        {
            t.writable(length);
        }
        t.writable(1);
        assertComplete(VIRTIO_BLK_S_IOERR);
    }

    @Test
    void rangeEndingAtCapacityIsAccepted()
    {
        t.readable(header(VIRTIO_BLK_T_IN, CAPACITY - 1));
        t.writable(513);
        assertEquals(VIRTIO_BLK_S_OK, parse());
    }

    @ParameterizedTest
    @ValueSource(longs = {CAPACITY, CAPACITY - 1 + 1, -1L, Long.MAX_VALUE, -2L})
    void rangePastCapacityOrOverflowingIsIoError(final long sector)
    {
        t.readable(header(VIRTIO_BLK_T_IN, sector));
        t.writable(1024 + 1);
        assertComplete(VIRTIO_BLK_S_IOERR);
    }

    @Test
    void flushIsSubmittedOrUnsupported()
    {
        t.readable(header(VIRTIO_BLK_T_FLUSH, 0));
        t.writable(1);
        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(0, request.dataLength());

        parser.flush(false);
        assertComplete(VIRTIO_BLK_S_UNSUPP);
    }

    @Test
    void getIdNeedsWritableSpace()
    {
        t.readable(header(VIRTIO_BLK_T_GET_ID, 0));
        t.writable(VIRTIO_BLK_ID_BYTES);
        t.writable(1);
        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(VIRTIO_BLK_ID_BYTES, request.dataLength());
        assertTrue(request.isDataWritable());

        t.start(6);
        t.readable(header(VIRTIO_BLK_T_GET_ID, 0));
        t.writable(1);
        assertComplete(VIRTIO_BLK_S_IOERR);
    }

    @ParameterizedTest
    @ValueSource(longs = {VIRTIO_BLK_T_GET_LIFETIME, VIRTIO_BLK_T_SECURE_ERASE, VIRTIO_BLK_T_ZONE_APPEND,
        VIRTIO_BLK_T_ZONE_RESET_ALL, 2, 3, 99, 0xFFFF_FFFFL})
    void unknownOrUnimplementedTypesAreUnsupported(final long type)
    {
        t.readable(header(type, 0));
        t.writable(512 + 1);
        assertComplete(VIRTIO_BLK_S_UNSUPP);
        assertEquals(type, request.type());
    }

    @Test
    void discardWithTwoSegments()
    {
        t.readable(header(VIRTIO_BLK_T_DISCARD, 0));
        t.readable(segments(new long[] {0, 8, 0}, new long[] {CAPACITY - 16, 16, 0}));
        t.writable(1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(2, request.dwzSegmentCount());
        assertEquals(1, request.dataSegment());
        assertEquals(32, request.dataLength());
        assertFalse(request.isDataWritable());
    }

    @Test
    void discardSegmentSplitAcrossDescriptors()
    {
        final byte[] all = new byte[32];
        System.arraycopy(header(VIRTIO_BLK_T_DISCARD, 0), 0, all, 0, 16);
        System.arraycopy(segments(new long[] {100, 8, 0}), 0, all, 16, 16);
        t.readableSplit(all, 10, 21, 30);
        t.writable(1);

        assertEquals(VIRTIO_BLK_S_OK, parse());
        assertEquals(1, request.dwzSegmentCount());
        assertEquals(1, request.dataSegment());
        assertEquals(6, request.dataOffset());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 15, 17, 40})
    void segmentPayloadNotAMultipleOfSixteenIsIoError(final int length)
    {
        t.readable(header(VIRTIO_BLK_T_DISCARD, 0));
        if (length > 0)
        {
            t.readable(new byte[length]);
        }
        t.writable(1);
        assertComplete(VIRTIO_BLK_S_IOERR);
    }

    @Test
    void configureTakesLimitsFromConfigAndFeatures()
    {
        final BlkConfig config = new BlkConfig().capacity(100).maxDiscardSeg(1).maxDiscardSectors(10);
        final BlkRequestParser configured = new BlkRequestParser().configure(config,
            (1L << VIRTIO_BLK_F_RO) | (1L << VIRTIO_BLK_F_DISCARD));
        assertEquals(100, configured.capacity());

        t.readable(header(VIRTIO_BLK_T_FLUSH, 0));
        t.writable(1);
        assertEquals(VIRTIO_BLK_S_UNSUPP, configured.parse(t.memory, t.chain, request));

        t.start(1);
        t.readable(header(VIRTIO_BLK_T_OUT, 0));
        t.readable(new byte[512]);
        t.writable(1);
        assertEquals(VIRTIO_BLK_S_IOERR, configured.parse(t.memory, t.chain, request));
    }

    /** Random valid reads and writes, randomly cut into segments, parse to the same request. */
    @Test
    void randomSplitsOfValidRequests()
    {
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("seed=" + seed);
        final Random random = new Random(seed);
        final int iterations = Integer.getInteger("braid.seeds", 2000);
        for (int i = 0; i < iterations; i++)
        {
            t.start(i);
            final boolean read = random.nextBoolean();
            final int sectors = 1 + random.nextInt(16);
            final long sector = random.nextInt((int)CAPACITY - sectors + 1);
            final byte[] readable = new byte[16 + (read ? 0 : sectors * 512)];
            System.arraycopy(header(read ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, sector), 0, readable, 0, 16);
            t.readableSplit(readable, cuts(random, readable.length));
            final int writable = 1 + (read ? sectors * 512 : 0);
            final int[] writableCuts = cuts(random, writable);
            int from = 0;
            for (final int cut : writableCuts)
            {
                t.writable(cut - from);
                from = cut;
            }
            final long last = t.writable(writable - from);

            final String context = "seed=" + seed + " iteration=" + i;
            assertEquals(VIRTIO_BLK_S_OK, parse(), context);
            assertEquals(sector, request.sector(), context);
            assertEquals(sectors * 512L, request.dataLength(), context);
            assertEquals(last + writable - from - 1, request.statusGpa(), context);
            final DescriptorChain chain = t.chain;
            assertTrue(TestChain.rangeInside(chain, request.dataSegment(), request.dataOffset(),
                request.dataLength(), read), context);
        }
    }

    private static int[] cuts(final Random random, final int length)
    {
        if (length < 2)
        {
            return new int[0];
        }
        final int count = random.nextInt(Math.min(4, length - 1) + 1);
        return random.ints(count, 1, length).distinct().sorted().toArray();
    }
}
