package dev.braid.mapper.ring;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** Single-thread semantics of the rings: FIFO, full and empty edges, wrap-around, bad handlers. */
@ExtendWith(SeedExtension.class)
class RingsTest
{
    /** Adapts both ring kinds to one shape: a completion ring carries (v, (int)v ^ 0x55, (int)(v >>> 3)). */
    interface Ring
    {
        boolean offer(long value);

        int drain(List<Long> into, int limit);

        int capacity();

        int size();
    }

    static Ring ring(final String kind, final int capacity)
    {
        switch (kind)
        {
            case "completion":
                final ManyToOneCompletionRing completions = new ManyToOneCompletionRing(capacity);
                return new Ring()
                {
                    public boolean offer(final long value)
                    {
                        return completions.offer(value, (int)value ^ 0x55, (int)(value >>> 3));
                    }

                    public int drain(final List<Long> into, final int limit)
                    {
                        return completions.drain((token, status, length) ->
                        {
                            assertEquals((int)token ^ 0x55, status);
                            assertEquals((int)(token >>> 3), length);
                            into.add(token);
                        }, limit);
                    }

                    public int capacity()
                    {
                        return completions.capacity();
                    }

                    public int size()
                    {
                        return completions.size();
                    }
                };
            case "mpsc-submission":
                return submission(new ManyToOneSubmissionRing(capacity));
            default:
                throw new IllegalArgumentException(kind);
        }
    }

    private static Ring submission(final SubmissionRing ring)
    {
        return new Ring()
        {
            public boolean offer(final long value)
            {
                return ring.offer(value);
            }

            public int drain(final List<Long> into, final int limit)
            {
                return ring.drain(into::add, limit);
            }

            public int capacity()
            {
                return ring.capacity();
            }

            public int size()
            {
                return ring.size();
            }
        };
    }

    @ParameterizedTest
    @ValueSource(strings = { "completion", "mpsc-submission" })
    void fifoAndFullAndEmpty(final String kind)
    {
        final Ring ring = ring(kind, 8);
        final List<Long> out = new ArrayList<>();
        assertEquals(0, ring.drain(out, 10));
        assertEquals(0, ring.size());
        for (long v = 0; v < 8; v++)
        {
            assertTrue(ring.offer(v * 1_000_003L - 5), "offer " + v);
            assertEquals(v + 1, ring.size());
        }
        assertFalse(ring.offer(99));
        assertEquals(8, ring.size());
        assertEquals(0, ring.drain(out, 0));
        assertEquals(3, ring.drain(out, 3));
        assertTrue(ring.offer(100));
        assertEquals(6, ring.drain(out, 100));
        assertEquals(0, ring.drain(out, 100));
        final List<Long> expected = new ArrayList<>();
        for (long v = 0; v < 8; v++)
        {
            expected.add(v * 1_000_003L - 5);
        }
        expected.add(100L);
        assertEquals(expected, out);
        assertEquals(0, ring.size());
    }

    @ParameterizedTest
    @ValueSource(strings = { "completion", "mpsc-submission" })
    void extremeValuesSurvive(final String kind)
    {
        final Ring ring = ring(kind, 4);
        final long[] values = { 0, -1, Long.MIN_VALUE, Long.MAX_VALUE };
        for (final long v : values)
        {
            assertTrue(ring.offer(v));
        }
        final List<Long> out = new ArrayList<>();
        ring.drain(out, 4);
        assertEquals(List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE), out);
    }

    @ParameterizedTest
    @ValueSource(strings = { "completion", "mpsc-submission" })
    void wrapsAroundManyLapsInRandomBatches(final String kind, final Seed seed)
    {
        final Random random = new Random(seed.value());
        final int capacity = 1 << (1 + random.nextInt(5));
        final Ring ring = ring(kind, capacity);
        final List<Long> out = new ArrayList<>();
        long next = 0;
        long expected = 0;
        for (int i = 0; i < seed.seeds() * 10; i++)
        {
            final int offers = random.nextInt(capacity + 2);
            for (int k = 0; k < offers; k++)
            {
                final int sizeBefore = ring.size();
                final boolean accepted = ring.offer(next);
                assertEquals(sizeBefore < capacity, accepted, seed.toString());
                if (accepted)
                {
                    next++;
                }
            }
            out.clear();
            final int limit = random.nextInt(capacity + 2);
            final int drained = ring.drain(out, limit);
            assertEquals(drained, out.size());
            assertTrue(drained <= limit);
            for (final long v : out)
            {
                assertEquals(expected++, v, seed.toString());
            }
        }
        out.clear();
        ring.drain(out, Integer.MAX_VALUE);
        for (final long v : out)
        {
            assertEquals(expected++, v, seed.toString());
        }
        assertEquals(next, expected);
    }

    @ParameterizedTest
    @ValueSource(strings = { "completion", "mpsc-submission" })
    void throwingHandlerConsumesOnlyItsElement(final String kind)
    {
        final Ring ring = ring(kind, 4);
        ring.offer(1);
        ring.offer(2);
        ring.offer(3);
        final List<Long> out = new ArrayList<>()
        {
            public boolean add(final Long value)
            {
                if (value == 2)
                {
                    throw new IllegalStateException("handler failed");
                }
                return super.add(value);
            }
        };
        assertThrows(IllegalStateException.class, () -> ring.drain(out, 10));
        assertEquals(List.of(1L), out);
        assertEquals(1, ring.size());
        assertEquals(1, ring.drain(out, 10));
        assertEquals(List.of(1L, 3L), out);
        for (int i = 0; i < 4; i++)
        {
            assertTrue(ring.offer(10 + i));
        }
        assertFalse(ring.offer(20));
    }

    @Test
    void capacityMustBePowerOfTwo()
    {
        for (final int bad : new int[]{ -4, 0, 1, 3, 12, 1 << 25 })
        {
            assertThrows(IllegalArgumentException.class, () -> new ManyToOneCompletionRing(bad));
            assertThrows(IllegalArgumentException.class, () -> new ManyToOneSubmissionRing(bad));
        }
        assertEquals(2, new ManyToOneCompletionRing(2).capacity());
        assertEquals(1024, new ManyToOneSubmissionRing(1024).capacity());
    }
}
