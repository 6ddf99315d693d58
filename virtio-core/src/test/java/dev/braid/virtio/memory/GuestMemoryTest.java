package dev.braid.virtio.memory;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class GuestMemoryTest
{
    @Test
    void typedAccessorsAreLittleEndian()
    {
        final GuestMemory memory = GuestMemory.allocate(4096);
        memory.putInt(16, 0x11223344);
        assertEquals(0x44, memory.getByte(16));
        assertEquals(0x11, memory.getByte(19));
        memory.putLong(32, 0x0102030405060708L);
        assertEquals(0x0506_0708, memory.getInt(32));
        assertEquals((short)0x0708, memory.getShort(32));
        assertEquals(0x0102030405060708L, memory.getLong(32));
    }

    @Test
    void acquireReleaseRoundTripAndRequireAlignment()
    {
        final GuestMemory memory = GuestMemory.allocate(4096);
        memory.putShortRelease(2, (short)0xBEEF);
        assertEquals((short)0xBEEF, memory.getShortAcquire(2));
        assertEquals((short)0xBEEF, memory.getShort(2));
        memory.putIntRelease(8, 0xCAFEBABE);
        assertEquals(0xCAFEBABE, memory.getIntAcquire(8));
        assertThrows(GuestMemoryException.class, () -> memory.getShortAcquire(3));
        assertThrows(GuestMemoryException.class, () -> memory.putIntRelease(4094, 1));
    }

    @Test
    void rangeChecksRejectOverflowAndOutside()
    {
        final GuestMemory memory = GuestMemory.builder().addAnonymous(0x1000, 0x1000).build();
        assertTrue(memory.isValidRange(0x1000, 0x1000));
        assertTrue(memory.isValidRange(0x1FFF, 1));
        assertFalse(memory.isValidRange(0x1FFF, 2));
        assertFalse(memory.isValidRange(0xFFF, 1));
        assertFalse(memory.isValidRange(Long.MAX_VALUE, 2));
        assertFalse(memory.isValidRange(-1L, 1));
        assertFalse(memory.isValidRange(0x1000, -1));
        assertFalse(memory.isValidRange(0x1800, Long.MAX_VALUE));
        assertEquals(-1, memory.regionIndex(0x1FFE, 4));
        assertThrows(GuestMemoryException.class, () -> memory.getLong(0x1FFC));
        assertThrows(GuestMemoryException.class, () -> memory.putByte(0x2000, (byte)1));
    }

    @Test
    void rangeSpanningAdjacentRegionsIsSplitNotRefused()
    {
        final GuestMemory memory = GuestMemory.builder()
            .addAnonymous(0x2000, 0x1000)
            .addAnonymous(0x1000, 0x1000)
            .addAnonymous(0x4000, 0x1000)
            .build();
        assertEquals(3, memory.regionCount());
        assertTrue(memory.isValidRange(0x1800, 0x1000));
        assertFalse(memory.isValidRange(0x2800, 0x1000), "hole between 0x3000 and 0x4000");

        final byte[] data = new byte[0x1000];
        for (int i = 0; i < data.length; i++)
        {
            data[i] = (byte)(i * 7);
        }
        memory.putBytes(0x1800, data, 0, data.length);
        final byte[] back = new byte[data.length];
        memory.getBytes(0x1800, back, 0, back.length);
        assertArrayEquals(data, back);

        memory.putInt(0x1FFE, 0xA1B2C3D4);
        assertEquals(0xA1B2C3D4, memory.getInt(0x1FFE));
        assertThrows(GuestMemoryException.class, () -> memory.putLong(0x2FFC, -2L), "crosses into the hole");
        assertEquals(0, memory.getInt(0x2FFC), "a refused write leaves nothing behind");
    }

    @Test
    void overlappingRegionsAreRejected()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> GuestMemory.builder().addAnonymous(0, 0x2000).addAnonymous(0x1000, 0x1000).build());
        assertTrue(ex.getMessage().contains("overlap"));
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.builder().build());
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.builder().addAnonymous(Long.MAX_VALUE - 10, 100));
    }

    @Test
    void hostVirtualAddressesTranslateBothWays()
    {
        final ByteBuffer backing = ByteBuffer.allocateDirect(0x2000);
        final GuestMemory memory = GuestMemory.builder()
            .addBuffer(0x10000, backing, 0x7f00_0000_0000L)
            .addAnonymous(0, 0x1000)
            .build();
        assertEquals(0x10010, memory.hostVirtualToGuestPhysical(0x7f00_0000_0010L, 16));
        assertEquals(-1, memory.hostVirtualToGuestPhysical(0x7f00_0000_1ff0L, 0x20));
        assertEquals(-1, memory.hostVirtualToGuestPhysical(0x1234, 1));
        assertEquals(0x7f00_0000_0100L, memory.guestPhysicalToHostVirtual(0x10100));
        assertEquals(-1, memory.guestPhysicalToHostVirtual(0x100), "anonymous region has no host address");
    }

    @Test
    void mappedFileBacksGuestMemory() throws Exception
    {
        final Path file = Files.createTempFile("braid-guest", ".mem");
        try
        {
            Files.write(file, new byte[8192]);
            final GuestMemory memory = GuestMemory.builder().addMappedFile(0x100000, file, 0, 8192).build();
            memory.putLong(0x100008, 0x1122334455667788L);
            final GuestMemory again = GuestMemory.builder().addMappedFile(0, file, 0, 8192).build();
            assertEquals(0x1122334455667788L, again.getLong(8), "both mappings share the file's pages");
        }
        finally
        {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void setMemoryAndCopySpanRegions()
    {
        final GuestMemory memory = GuestMemory.builder().addAnonymous(0, 0x1000).addAnonymous(0x1000, 0x1000).build();
        memory.setMemory(0xF00, 0x200, (byte)0x5A);
        assertEquals(0x5A, memory.getByte(0x10FF));
        memory.copy(0xF80, 0x1800, 0x100);
        assertEquals(0x5A5A5A5A5A5A5A5AL, memory.getLong(0x18F8));
    }
}
