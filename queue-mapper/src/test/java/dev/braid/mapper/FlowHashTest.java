package dev.braid.mapper;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.*;

@ExtendWith(SeedExtension.class)
class FlowHashTest
{
    private static final int SRC = 0x0A000001;
    private static final int DST = 0x0A000002;

    private static int hash(final byte[] frame)
    {
        return FlowHash.ofFrame(frame, 0, frame.length);
    }

    @Test
    void ipv4TcpUsesFiveTupleNotPayload()
    {
        final int h = hash(Frames.ipv4(SRC, DST, 6, 40000, 443, 0, 0, 10));
        assertEquals(h, hash(Frames.ipv4(SRC, DST, 6, 40000, 443, 0, 0, 300)));
        assertNotEquals(h, hash(Frames.ipv4(SRC, DST, 6, 40001, 443, 0, 0, 10)));
        assertNotEquals(h, hash(Frames.ipv4(SRC, DST, 6, 40000, 444, 0, 0, 10)));
        assertNotEquals(h, hash(Frames.ipv4(SRC, DST + 1, 6, 40000, 443, 0, 0, 10)));
        assertNotEquals(h, hash(Frames.ipv4(SRC, DST, 17, 40000, 443, 0, 0, 10)));
    }

    @Test
    void ipv4UdpAndOtherProtocols()
    {
        assertNotEquals(hash(Frames.ipv4(SRC, DST, 17, 53, 5353, 0, 0, 0)), hash(Frames.ipv4(SRC, DST, 17, 54, 5353, 0, 0, 0)));
        // ICMP has no ports: bytes where ports would be do not matter.
        assertEquals(hash(Frames.ipv4(SRC, DST, 1, 1, 2, 0, 0, 0)), hash(Frames.ipv4(SRC, DST, 1, 3, 4, 0, 0, 0)));
    }

    @Test
    void ipv4FragmentsOfAFlowShareAHash()
    {
        final int first = hash(Frames.ipv4(SRC, DST, 17, 1000, 2000, 0, 0x2000, 64));
        final int middle = hash(Frames.ipv4(SRC, DST, 17, 7777, 8888, 0, 0x2000 | 10, 64));
        final int last = hash(Frames.ipv4(SRC, DST, 17, 1, 2, 0, 20, 64));
        assertEquals(first, middle);
        assertEquals(first, last);
        // Don't-fragment is not a fragment.
        assertNotEquals(hash(Frames.ipv4(SRC, DST, 17, 1000, 2000, 0, 0x4000, 0)),
            hash(Frames.ipv4(SRC, DST, 17, 1001, 2000, 0, 0x4000, 0)));
    }

    @Test
    void vlanTagsAreSkipped()
    {
        final int plain = hash(Frames.ipv4(SRC, DST, 6, 1, 2, 0, 0, 0));
        assertEquals(plain, hash(Frames.ipv4(SRC, DST, 6, 1, 2, 1, 0, 0)));
        assertEquals(plain, hash(Frames.ipv4(SRC, DST, 6, 1, 2, 2, 0, 0)));
    }

    @Test
    void ipv6TcpUdpWithAndWithoutExtensionHeaders()
    {
        final int tcp = hash(Frames.ipv6(1, 2, 6, 5000, 80, 0, false));
        assertNotEquals(tcp, hash(Frames.ipv6(1, 2, 6, 5001, 80, 0, false)));
        assertNotEquals(tcp, hash(Frames.ipv6(1, 3, 6, 5000, 80, 0, false)));
        assertNotEquals(tcp, hash(Frames.ipv6(1, 2, 17, 5000, 80, 0, false)));
        // Hop-by-hop headers are walked to reach the ports; the tuple hashes the same.
        assertEquals(tcp, hash(Frames.ipv6(1, 2, 6, 5000, 80, 2, false)));
        assertNotEquals(hash(Frames.ipv6(1, 2, 17, 1, 80, 3, false)), hash(Frames.ipv6(1, 2, 17, 2, 80, 3, false)));
        // Fragments leave the ports out.
        assertEquals(hash(Frames.ipv6(1, 2, 17, 1, 80, 0, true)), hash(Frames.ipv6(1, 2, 17, 2, 81, 0, true)));
        // Too many extension headers: bounded walk, still a stable hash.
        assertEquals(hash(Frames.ipv6(1, 2, 6, 1, 80, 12, false)), hash(Frames.ipv6(1, 2, 6, 2, 80, 12, false)));
    }

    @Test
    void byteArrayAndDirectBufferAgreeAtAnyOffset()
    {
        final byte[] frame = Frames.ipv6(9, 8, 17, 4242, 53, 1, false);
        final byte[] shifted = new byte[frame.length + 13];
        System.arraycopy(frame, 0, shifted, 7, frame.length);
        final int h = hash(frame);
        assertEquals(h, FlowHash.ofFrame(shifted, 7, frame.length));
        assertEquals(h, FlowHash.ofFrame(new UnsafeBuffer(shifted), 7, frame.length));
        // Length past the end is clipped to what is there.
        assertEquals(h, FlowHash.ofFrame(shifted, 7, Integer.MAX_VALUE));
    }

    @Test
    void nonIpAndShortFrames()
    {
        final byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        arp[0] = 1;
        final int h = hash(arp);
        arp[30] = 99;
        assertEquals(h, hash(arp), "ARP body is not hashed");
        arp[0] = 2;
        assertNotEquals(h, hash(arp), "MACs are hashed");

        assertEquals(0, FlowHash.ofFrame(new byte[13], 0, 13));
        assertEquals(0, FlowHash.ofFrame((byte[])null, 0, 10));
        assertEquals(0, FlowHash.ofFrame(new byte[64], -1, 10));
        assertEquals(0, FlowHash.ofFrame(new byte[64], 64, 10));
        assertEquals(0, FlowHash.ofFrame(new byte[64], 0, -5));
        assertEquals(0, FlowHash.ofFrame(new UnsafeBuffer(new byte[64]), 70, 10));
        assertEquals(0, FlowHash.ofFrame((UnsafeBuffer)null, 0, 10));
    }

    @Test
    void everyTruncationAndRandomGarbageIsSafe(final Seed seed)
    {
        final byte[][] frames = {
            Frames.ipv4(SRC, DST, 6, 1, 2, 2, 0, 8),
            Frames.ipv6(1, 2, 6, 1, 2, 3, false),
            Frames.ipv6(1, 2, 17, 1, 2, 1, true),
        };
        for (final byte[] frame : frames)
        {
            for (int length = 0; length <= frame.length; length++)
            {
                FlowHash.ofFrame(frame, 0, length);
                FlowHash.ofFrame(new UnsafeBuffer(frame, 0, length), 0, frame.length);
            }
        }

        final Random random = new Random(seed.value());
        final byte[] garbage = new byte[256];
        final UnsafeBuffer buffer = new UnsafeBuffer(garbage);
        for (int i = 0; i < seed.seeds() * 10; i++)
        {
            random.nextBytes(garbage);
            // Steer towards the interesting paths: IP EtherTypes, versions, extension chains.
            if (random.nextBoolean())
            {
                garbage[12] = (byte)(random.nextBoolean() ? 0x08 : 0x86);
                garbage[13] = (byte)(garbage[12] == 0x08 ? 0x00 : 0xDD);
                garbage[14] = (byte)(garbage[12] == 0x08 ? 0x40 | (random.nextInt(16)) : 0x60);
                garbage[20] = (byte)new int[]{ 0, 43, 44, 51, 60, 6, 17 }[random.nextInt(7)];
            }
            final int offset = random.nextInt(300) - 20;
            final int length = random.nextInt(300) - 20;
            final int a = FlowHash.ofFrame(garbage, offset, length);
            final int b = FlowHash.ofFrame(buffer, offset, length);
            assertEquals(a, b, seed + " i=" + i);
        }
    }

    @Test
    void distinctFlowsGetDistinctHashes()
    {
        final Set<Integer> hashes = new HashSet<>();
        for (int port = 1; port <= 20_000; port++)
        {
            hashes.add(hash(Frames.ipv4(SRC, DST, 6, port, 443, 0, 0, 0)));
        }
        assertTrue(hashes.size() > 19_990, "collisions: " + (20_000 - hashes.size()));
    }

    @Test
    void sectorHintGroupsStripes()
    {
        assertEquals(FlowHash.ofSector(0), FlowHash.ofSector(255));
        assertNotEquals(FlowHash.ofSector(255), FlowHash.ofSector(256));
        assertEquals(FlowHash.ofSector(1 << 12, 12), FlowHash.ofSector((1 << 13) - 1, 12));
        assertEquals(FlowHash.ofSector(-1, 64), FlowHash.ofSector(-1, 0));
    }
}
