package dev.braid.virtio.memory;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * The guest's physical memory: a fixed, sorted set of non-overlapping {@link GuestMemoryRegion}s.
 *
 * <p>Every access is bounds-checked against the regions, with overflow-safe arithmetic, so that no
 * guest-physical address can reach memory outside the guest. A range may span adjacent regions;
 * it is then split, not refused. Typed accessors are little-endian, as virtio 1.x is.
 *
 * <p>Immutable after {@link Builder#build()}, so any number of threads may share one instance.
 * Plain accessors give no ordering; the {@code Acquire}/{@code Release} accessors exist for ring
 * indices and flags that are shared with the guest's driver.
 */
public final class GuestMemory
{
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == LITTLE_ENDIAN;

    private final GuestMemoryRegion[] regions;
    private final long[] bases;
    private final long[] lengths;
    private final UnsafeBuffer[] buffers;
    private final long totalLength;

    private GuestMemory(final GuestMemoryRegion[] regions)
    {
        this.regions = regions;
        this.bases = new long[regions.length];
        this.lengths = new long[regions.length];
        this.buffers = new UnsafeBuffer[regions.length];
        long total = 0;
        for (int i = 0; i < regions.length; i++)
        {
            bases[i] = regions[i].guestPhysicalBase();
            lengths[i] = regions[i].length();
            buffers[i] = regions[i].buffer();
            total += lengths[i];
        }
        this.totalLength = total;
    }

    /** A builder for the regions handed over by the VMM. */
    public static Builder builder()
    {
        return new Builder();
    }

    /** One anonymous, zeroed region at guest-physical 0: the usual setup for tests and benchmarks. */
    public static GuestMemory allocate(final long size)
    {
        return builder().addAnonymous(0, size).build();
    }

    public int regionCount()
    {
        return regions.length;
    }

    public GuestMemoryRegion region(final int index)
    {
        return regions[index];
    }

    /** Sum of all region lengths. */
    public long totalLength()
    {
        return totalLength;
    }

    /**
     * The region that holds all of {@code [gpa, gpa + length)}, or -1 when no single region does
     * (the range is outside guest memory, or spans regions).
     */
    public int regionIndex(final long gpa, final long length)
    {
        if (length < 0)
        {
            return -1;
        }
        final long[] bases = this.bases;
        for (int i = 0; i < bases.length; i++)
        {
            // gpa >= base keeps offset non-negative, so the comparison below cannot overflow.
            final long offset = gpa - bases[i];
            if (gpa >= bases[i] && offset <= lengths[i] - length)
            {
                return i;
            }
        }
        return -1;
    }

    /** Whether every byte of {@code [gpa, gpa + length)} is guest memory, across adjacent regions. */
    public boolean isValidRange(final long gpa, final long length)
    {
        if (length < 0 || gpa < 0)
        {
            return false;
        }
        if (regionIndex(gpa, length) >= 0)
        {
            return true;
        }
        long address = gpa;
        long remaining = length;
        while (remaining > 0)
        {
            final int r = regionIndex(address, 1);
            if (r < 0)
            {
                return false;
            }
            final long inRegion = Math.min(remaining, bases[r] + lengths[r] - address);
            address += inRegion;
            remaining -= inRegion;
        }
        return true;
    }

    /** The buffer of region {@code index}, for zero-copy access after {@link #regionIndex}. */
    public UnsafeBuffer buffer(final int regionIndex)
    {
        return buffers[regionIndex];
    }

    /** Offset of {@code gpa} inside region {@code regionIndex}'s buffer. */
    public int offset(final int regionIndex, final long gpa)
    {
        return (int)(gpa - bases[regionIndex]);
    }

    /** Translates a VMM virtual address range to guest-physical, or -1 when it is not all mapped. */
    public long hostVirtualToGuestPhysical(final long hva, final long length)
    {
        for (final GuestMemoryRegion region : regions)
        {
            final long hvaBase = region.hostVirtualAddress();
            if (hvaBase != GuestMemoryRegion.NO_HOST_ADDRESS && hva >= hvaBase)
            {
                final long offset = hva - hvaBase;
                if (offset < region.length())
                {
                    final long gpa = region.guestPhysicalBase() + offset;
                    return isValidRange(gpa, length) ? gpa : -1;
                }
            }
        }
        return -1;
    }

    /** Translates a guest-physical address to the VMM's virtual address, or -1 when it has none. */
    public long guestPhysicalToHostVirtual(final long gpa)
    {
        final int r = regionIndex(gpa, 1);
        if (r < 0 || regions[r].hostVirtualAddress() == GuestMemoryRegion.NO_HOST_ADDRESS)
        {
            return -1;
        }
        return regions[r].hostVirtualAddress() + (gpa - bases[r]);
    }

    // ---------------------------------------------------------------- typed little-endian accessors

    public byte getByte(final long gpa)
    {
        final int r = checkedRegion(gpa, 1);
        return buffers[r].getByte((int)(gpa - bases[r]));
    }

    public void putByte(final long gpa, final byte value)
    {
        final int r = checkedRegion(gpa, 1);
        buffers[r].putByte((int)(gpa - bases[r]), value);
    }

    public short getShort(final long gpa)
    {
        final int r = regionIndex(gpa, 2);
        if (r < 0)
        {
            return (short)getSpanningLittleEndian(gpa, 2);
        }
        return buffers[r].getShort((int)(gpa - bases[r]), LITTLE_ENDIAN);
    }

    public void putShort(final long gpa, final short value)
    {
        final int r = regionIndex(gpa, 2);
        if (r < 0)
        {
            putSpanningLittleEndian(gpa, 2, value);
            return;
        }
        buffers[r].putShort((int)(gpa - bases[r]), value, LITTLE_ENDIAN);
    }

    public int getInt(final long gpa)
    {
        final int r = regionIndex(gpa, 4);
        if (r < 0)
        {
            return (int)getSpanningLittleEndian(gpa, 4);
        }
        return buffers[r].getInt((int)(gpa - bases[r]), LITTLE_ENDIAN);
    }

    public void putInt(final long gpa, final int value)
    {
        final int r = regionIndex(gpa, 4);
        if (r < 0)
        {
            putSpanningLittleEndian(gpa, 4, value);
            return;
        }
        buffers[r].putInt((int)(gpa - bases[r]), value, LITTLE_ENDIAN);
    }

    public long getLong(final long gpa)
    {
        final int r = regionIndex(gpa, 8);
        if (r < 0)
        {
            return getSpanningLittleEndian(gpa, 8);
        }
        return buffers[r].getLong((int)(gpa - bases[r]), LITTLE_ENDIAN);
    }

    public void putLong(final long gpa, final long value)
    {
        final int r = regionIndex(gpa, 8);
        if (r < 0)
        {
            putSpanningLittleEndian(gpa, 8, value);
            return;
        }
        buffers[r].putLong((int)(gpa - bases[r]), value, LITTLE_ENDIAN);
    }

    // ---------------------------------------------------------------- acquire/release, for ring fields

    /**
     * Loads a 16-bit ring field with acquire semantics: nothing the caller reads afterwards (the
     * descriptors the index covers) can be read before it. {@code gpa} must be 2-byte aligned.
     */
    public short getShortAcquire(final long gpa)
    {
        final int r = checkedAlignedRegion(gpa, 2);
        final UnsafeBuffer buffer = buffers[r];
        final short value = UnsafeApi.getShortAcquire(buffer.byteArray(), buffer.addressOffset() + (gpa - bases[r]));
        return NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value);
    }

    /**
     * Stores a 16-bit ring field with release semantics: everything the caller wrote before (used
     * elements, descriptors) is visible to a reader that sees this value. {@code gpa} must be aligned.
     */
    public void putShortRelease(final long gpa, final short value)
    {
        final int r = checkedAlignedRegion(gpa, 2);
        final UnsafeBuffer buffer = buffers[r];
        UnsafeApi.putShortRelease(
            buffer.byteArray(), buffer.addressOffset() + (gpa - bases[r]),
            NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
    }

    /** 32-bit acquire load; {@code gpa} must be 4-byte aligned. */
    public int getIntAcquire(final long gpa)
    {
        final int r = checkedAlignedRegion(gpa, 4);
        final int value = buffers[r].getIntAcquire((int)(gpa - bases[r]));
        return NATIVE_LITTLE_ENDIAN ? value : Integer.reverseBytes(value);
    }

    /** 32-bit release store; {@code gpa} must be 4-byte aligned. */
    public void putIntRelease(final long gpa, final int value)
    {
        final int r = checkedAlignedRegion(gpa, 4);
        buffers[r].putIntRelease((int)(gpa - bases[r]), NATIVE_LITTLE_ENDIAN ? value : Integer.reverseBytes(value));
    }

    /**
     * A full store-load barrier. Virtio needs one between publishing an index and reading the
     * other side's event field, or both sides can miss each other's notification.
     */
    public static void fullFence()
    {
        UnsafeApi.fullFence();
    }

    // ---------------------------------------------------------------- bulk copies, region-spanning

    public void getBytes(final long gpa, final byte[] dst, final int dstOffset, final int length)
    {
        checkRange(gpa, length);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int r = regionIndex(address, 1);
            final int chunk = (int)Math.min(length - done, bases[r] + lengths[r] - address);
            buffers[r].getBytes((int)(address - bases[r]), dst, dstOffset + done, chunk);
            address += chunk;
            done += chunk;
        }
    }

    public void putBytes(final long gpa, final byte[] src, final int srcOffset, final int length)
    {
        checkRange(gpa, length);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int r = regionIndex(address, 1);
            final int chunk = (int)Math.min(length - done, bases[r] + lengths[r] - address);
            buffers[r].putBytes((int)(address - bases[r]), src, srcOffset + done, chunk);
            address += chunk;
            done += chunk;
        }
    }

    public void getBytes(final long gpa, final MutableDirectBuffer dst, final int dstIndex, final int length)
    {
        checkRange(gpa, length);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int r = regionIndex(address, 1);
            final int chunk = (int)Math.min(length - done, bases[r] + lengths[r] - address);
            dst.putBytes(dstIndex + done, buffers[r], (int)(address - bases[r]), chunk);
            address += chunk;
            done += chunk;
        }
    }

    public void putBytes(final long gpa, final DirectBuffer src, final int srcIndex, final int length)
    {
        checkRange(gpa, length);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int r = regionIndex(address, 1);
            final int chunk = (int)Math.min(length - done, bases[r] + lengths[r] - address);
            buffers[r].putBytes((int)(address - bases[r]), src, srcIndex + done, chunk);
            address += chunk;
            done += chunk;
        }
    }

    /** Fills {@code [gpa, gpa + length)} with {@code value}. */
    public void setMemory(final long gpa, final long length, final byte value)
    {
        checkRange(gpa, length);
        long address = gpa;
        long remaining = length;
        while (remaining > 0)
        {
            final int r = regionIndex(address, 1);
            final int chunk = (int)Math.min(remaining, bases[r] + lengths[r] - address);
            buffers[r].setMemory((int)(address - bases[r]), chunk, value);
            address += chunk;
            remaining -= chunk;
        }
    }

    /** Copies between two guest ranges, which must not overlap. */
    public void copy(final long srcGpa, final long dstGpa, final long length)
    {
        checkRange(srcGpa, length);
        checkRange(dstGpa, length);
        long src = srcGpa;
        long dst = dstGpa;
        long remaining = length;
        while (remaining > 0)
        {
            final int rs = regionIndex(src, 1);
            final int rd = regionIndex(dst, 1);
            final long chunk = Math.min(remaining,
                Math.min(bases[rs] + lengths[rs] - src, bases[rd] + lengths[rd] - dst));
            buffers[rd].putBytes((int)(dst - bases[rd]), buffers[rs], (int)(src - bases[rs]), (int)chunk);
            src += chunk;
            dst += chunk;
            remaining -= chunk;
        }
    }

    // ---------------------------------------------------------------- internals

    private int checkedRegion(final long gpa, final int length)
    {
        final int r = regionIndex(gpa, length);
        if (r < 0)
        {
            throw outside(gpa, length);
        }
        return r;
    }

    private int checkedAlignedRegion(final long gpa, final int length)
    {
        final int r = regionIndex(gpa, length);
        if (r < 0 || (gpa & (length - 1)) != 0)
        {
            throw new GuestMemoryException(
                "unaligned or outside guest memory: gpa=0x" + Long.toHexString(gpa) + " length=" + length);
        }
        return r;
    }

    private void checkRange(final long gpa, final long length)
    {
        if (!isValidRange(gpa, length))
        {
            throw outside(gpa, length);
        }
    }

    private long getSpanningLittleEndian(final long gpa, final int width)
    {
        checkRange(gpa, width);
        long value = 0;
        for (int i = 0; i < width; i++)
        {
            value |= (getByte(gpa + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    private void putSpanningLittleEndian(final long gpa, final int width, final long value)
    {
        checkRange(gpa, width);
        for (int i = 0; i < width; i++)
        {
            putByte(gpa + i, (byte)(value >>> (8 * i)));
        }
    }

    private static GuestMemoryException outside(final long gpa, final long length)
    {
        return new GuestMemoryException(
            "outside guest memory: gpa=0x" + Long.toHexString(gpa) + " length=" + length);
    }

    public String toString()
    {
        return "GuestMemory" + Arrays.toString(regions);
    }

    /** Collects regions; validates that they neither overlap nor wrap around. */
    public static final class Builder
    {
        private final List<GuestMemoryRegion> regions = new ArrayList<>();

        private Builder()
        {
        }

        /** Zeroed, page-aligned off-heap memory owned by Braid. */
        public Builder addAnonymous(final long gpa, final long size)
        {
            checkBaseAndSize(gpa, size);
            for (long done = 0; done < size; )
            {
                final int chunk = (int)Math.min(size - done, GuestMemoryRegion.MAX_REGION_LENGTH);
                final ByteBuffer bytes = BufferUtil.allocateDirectAligned(chunk, 4096);
                regions.add(new GuestMemoryRegion(gpa + done, new UnsafeBuffer(bytes), GuestMemoryRegion.NO_HOST_ADDRESS, bytes));
                done += chunk;
            }
            return this;
        }

        /** A file (or memfd through /proc/self/fd) mapped shared, as a VMM backs RAM with one. */
        public Builder addMappedFile(final long gpa, final Path file, final long fileOffset, final long size)
        {
            checkBaseAndSize(gpa, size);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
            {
                for (long done = 0; done < size; )
                {
                    final int chunk = (int)Math.min(size - done, GuestMemoryRegion.MAX_REGION_LENGTH);
                    final MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_WRITE, fileOffset + done, chunk);
                    regions.add(new GuestMemoryRegion(gpa + done, new UnsafeBuffer(mapped), GuestMemoryRegion.NO_HOST_ADDRESS, mapped));
                    done += chunk;
                }
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("cannot map guest memory file " + file + ": " + ex.getMessage(), ex);
            }
            return this;
        }

        /**
         * Memory the VMM already mapped at {@code address} in this process. {@code hostVirtualAddress}
         * is the front end's own address for the same bytes (vhost-user), or NO_HOST_ADDRESS.
         * The caller keeps the mapping alive for the lifetime of the returned memory.
         */
        public Builder addAddress(final long gpa, final long address, final long size, final long hostVirtualAddress)
        {
            checkBaseAndSize(gpa, size);
            if (address == 0)
            {
                throw new IllegalArgumentException("guest memory address must not be null");
            }
            for (long done = 0; done < size; )
            {
                final int chunk = (int)Math.min(size - done, GuestMemoryRegion.MAX_REGION_LENGTH);
                final long hva = hostVirtualAddress == GuestMemoryRegion.NO_HOST_ADDRESS ?
                    GuestMemoryRegion.NO_HOST_ADDRESS : hostVirtualAddress + done;
                regions.add(new GuestMemoryRegion(gpa + done, new UnsafeBuffer(address + done, chunk), hva, null));
                done += chunk;
            }
            return this;
        }

        /** A direct buffer the caller owns (for example a MappedByteBuffer of a memfd). */
        public Builder addBuffer(final long gpa, final ByteBuffer directBuffer, final long hostVirtualAddress)
        {
            if (!directBuffer.isDirect())
            {
                throw new IllegalArgumentException("guest memory must be off-heap: pass a direct ByteBuffer");
            }
            checkBaseAndSize(gpa, directBuffer.capacity());
            for (long done = 0; done < directBuffer.capacity(); )
            {
                final int chunk = (int)Math.min(directBuffer.capacity() - done, GuestMemoryRegion.MAX_REGION_LENGTH);
                final long hva = hostVirtualAddress == GuestMemoryRegion.NO_HOST_ADDRESS ?
                    GuestMemoryRegion.NO_HOST_ADDRESS : hostVirtualAddress + done;
                regions.add(new GuestMemoryRegion(
                    gpa + done, new UnsafeBuffer(directBuffer, (int)done, chunk), hva, directBuffer));
                done += chunk;
            }
            return this;
        }

        public GuestMemory build()
        {
            if (regions.isEmpty())
            {
                throw new IllegalArgumentException("guest memory needs at least one region");
            }
            final GuestMemoryRegion[] sorted = regions.toArray(new GuestMemoryRegion[0]);
            Arrays.sort(sorted, Comparator.comparingLong(GuestMemoryRegion::guestPhysicalBase));
            for (int i = 1; i < sorted.length; i++)
            {
                if (sorted[i].guestPhysicalBase() < sorted[i - 1].guestPhysicalEnd())
                {
                    throw new IllegalArgumentException(
                        "guest memory regions overlap: " + sorted[i - 1] + " and " + sorted[i]);
                }
            }
            return new GuestMemory(sorted);
        }

        private static void checkBaseAndSize(final long gpa, final long size)
        {
            if (gpa < 0)
            {
                throw new IllegalArgumentException("guest-physical base must be below 2^63: 0x" + Long.toHexString(gpa));
            }
            if (size <= 0)
            {
                throw new IllegalArgumentException("guest memory region size must be positive: " + size);
            }
            if (gpa + size < 0)
            {
                throw new IllegalArgumentException("guest memory region wraps around: gpa=0x" +
                    Long.toHexString(gpa) + " size=" + size);
            }
        }
    }
}
