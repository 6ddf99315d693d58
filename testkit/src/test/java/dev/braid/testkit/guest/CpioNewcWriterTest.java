package dev.braid.testkit.guest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CpioNewcWriterTest
{
    private record Entry(String name, int mode, int nlink, int size, int rdevMajor, int rdevMinor, byte[] data)
    {
    }

    /** A strict reader for what the writer promises: newc magic, 4-byte alignment, zero check field. */
    private static List<Entry> read(final byte[] archive)
    {
        final List<Entry> entries = new ArrayList<>();
        int at = 0;
        while (true)
        {
            assertEquals(0, at % 4, "header aligned");
            assertEquals("070701", new String(archive, at, 6, StandardCharsets.US_ASCII));
            final int[] f = new int[13];
            for (int i = 0; i < 13; i++)
            {
                f[i] = Integer.parseUnsignedInt(new String(archive, at + 6 + 8 * i, 8, StandardCharsets.US_ASCII), 16);
            }
            assertEquals(0, f[12], "check field");
            final int nameSize = f[11];
            assertEquals(0, archive[at + 110 + nameSize - 1], "name NUL-terminated");
            final String name = new String(archive, at + 110, nameSize - 1, StandardCharsets.UTF_8);
            int data = at + 110 + nameSize;
            data = (data + 3) & ~3;
            final byte[] bytes = Arrays.copyOfRange(archive, data, data + f[6]);
            at = (data + f[6] + 3) & ~3;
            if (name.equals("TRAILER!!!"))
            {
                assertEquals(archive.length, at, "nothing after the trailer");
                return entries;
            }
            entries.add(new Entry(name, f[1], f[4], f[6], f[9], f[10], bytes));
        }
    }

    @Test
    void entriesRoundTripWithEveryPaddingRemainder() throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final CpioNewcWriter cpio = new CpioNewcWriter(out);
        cpio.directory("dev", 0755);
        cpio.charDevice("dev/console", 0600, 5, 1);
        // Name lengths 1..4 and data lengths 0..5 cover every remainder of both paddings.
        final List<byte[]> payloads = new ArrayList<>();
        for (int i = 0; i < 6; i++)
        {
            final byte[] data = new byte[i];
            Arrays.fill(data, (byte)('a' + i));
            payloads.add(data);
            cpio.file("abcd".substring(0, 1 + i % 4) + i, 0644, data);
        }
        cpio.symlink("bin/sh", "busybox");
        cpio.finish();
        cpio.finish();

        final List<Entry> entries = read(out.toByteArray());
        assertEquals(9, entries.size());
        assertEquals("dev", entries.get(0).name());
        assertEquals(0040755, entries.get(0).mode());
        assertEquals(2, entries.get(0).nlink());
        assertEquals(0020600, entries.get(1).mode());
        assertEquals(5, entries.get(1).rdevMajor());
        assertEquals(1, entries.get(1).rdevMinor());
        for (int i = 0; i < 6; i++)
        {
            final Entry e = entries.get(2 + i);
            assertEquals(0100644, e.mode());
            assertEquals(i, e.size());
            assertArrayEquals(payloads.get(i), e.data());
        }
        assertEquals(0120777, entries.get(8).mode());
        assertEquals("busybox", new String(entries.get(8).data(), StandardCharsets.UTF_8));
    }

    @Test
    void refusesAbsoluteOrEmptyNamesAndEntriesAfterTheTrailer() throws Exception
    {
        final CpioNewcWriter cpio = new CpioNewcWriter(new ByteArrayOutputStream());
        assertThrows(IllegalArgumentException.class, () -> cpio.file("/init", 0755, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> cpio.directory("", 0755));
        cpio.finish();
        assertThrows(IllegalStateException.class, () -> cpio.file("init", 0755, new byte[0]));
    }
}
