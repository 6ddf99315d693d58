package dev.braid.vhostuser;

import dev.braid.virtio.memory.GuestMemory;

/**
 * The front end's memory regions as this process mapped them. Each region's fd is mapped from
 * offset 0 for {@code mmap_offset + size} bytes (as libvhost-user does, so hugepage alignment of
 * the offset never matters), with JNA {@code mmap}: regions over 2 GiB work. Regions are
 * refused when their fields overflow, their file is shorter than what they claim (touching such a
 * mapping would be SIGBUS), or they overlap an existing one in guest-physical or front-end virtual
 * space. Control thread only; the {@link GuestMemory} it builds is immutable and must not be used
 * after the mappings under it are replaced (the back end stops the device first).
 */
public final class MemoryTable
{
    private final int maxSlots;
    private final long[] gpa;
    private final long[] size;
    private final long[] uva;
    private final long[] mmapOffset;
    /** Where region i's first byte is mapped here: the mapping starts mmap_offset before it. */
    private final long[] mapAddress;
    /** How many ADD_MEM_REGs named region i: QEMU sends one per vhost device (net: per queue pair). */
    private final int[] refs;
    private int count;
    private GuestMemory memory;

    public MemoryTable(final int maxSlots)
    {
        if (maxSlots < VhostUserDescriptor.TABLE_MAX_REGIONS || maxSlots > 512)
        {
            throw new IllegalArgumentException("memory slots must be 8..512: " + maxSlots);
        }
        this.maxSlots = maxSlots;
        gpa = new long[maxSlots];
        size = new long[maxSlots];
        uva = new long[maxSlots];
        mmapOffset = new long[maxSlots];
        mapAddress = new long[maxSlots];
        refs = new int[maxSlots];
    }

    public int maxSlots()
    {
        return maxSlots;
    }

    public int count()
    {
        return count;
    }

    /** The guest memory of the current regions, or null when there are none. */
    public GuestMemory memory()
    {
        return memory;
    }

    /**
     * Why a region is malformed or clashes with the regions {@code [0, upTo)} of the given
     * arrays, or null when it is acceptable. Pure: no system call.
     */
    static String check(
        final long g, final long s, final long u, final long o,
        final long[] gpas, final long[] sizes, final long[] uvas, final int upTo)
    {
        if (s <= 0)
        {
            return "region size " + Long.toUnsignedString(s);
        }
        if (g < 0 || g + s < 0)
        {
            return "region gpa 0x" + Long.toHexString(g) + " size 0x" + Long.toHexString(s) + " overflows";
        }
        // User-space addresses are below 2^63 on every Linux; GuestMemory's translation compares signed.
        if (u <= 0 || u + s < 0)
        {
            return "region user address 0x" + Long.toHexString(u) + " size 0x" + Long.toHexString(s) + " is outside user space";
        }
        if (o < 0 || o + s < 0)
        {
            return "region mmap_offset 0x" + Long.toHexString(o) + " size 0x" + Long.toHexString(s) + " overflows";
        }
        for (int i = 0; i < upTo; i++)
        {
            if (g < gpas[i] + sizes[i] && gpas[i] < g + s)
            {
                return "region gpa 0x" + Long.toHexString(g) + " overlaps gpa 0x" + Long.toHexString(gpas[i]);
            }
            if (Long.compareUnsigned(u, uvas[i] + sizes[i]) < 0 && Long.compareUnsigned(uvas[i], u + s) < 0)
            {
                return "region user address 0x" + Long.toHexString(u) + " overlaps 0x" + Long.toHexString(uvas[i]);
            }
        }
        return null;
    }

    /**
     * SET_MEM_TABLE: replaces every region with {@code n} new ones, {@code fds[i]} backing region i
     * (the caller still owns and closes the fds). On refusal the old table stays. Returns why it
     * was refused, or null.
     */
    public String replace(final int n, final long[] gpas, final long[] sizes, final long[] uvas, final long[] offsets,
        final int[] fds)
    {
        if (n > maxSlots)
        {
            return "too many regions: " + n;
        }
        for (int i = 0; i < n; i++)
        {
            final String problem = check(gpas[i], sizes[i], uvas[i], offsets[i], gpas, sizes, uvas, i);
            if (problem != null)
            {
                return problem;
            }
        }
        final long[] mapped = new long[n];
        for (int i = 0; i < n; i++)
        {
            final long address = map(fds[i], sizes[i], offsets[i]);
            if (address < 0)
            {
                for (int j = 0; j < i; j++)
                {
                    Libc.munmap(mapped[j] - offsets[j], offsets[j] + sizes[j]);
                }
                return address == -2 ? "region fd " + fds[i] + " is shorter than mmap_offset + size 0x" +
                    Long.toHexString(offsets[i] + sizes[i]) : "mmap of region fd " + fds[i] + " failed";
            }
            mapped[i] = address;
        }
        unmapAll();
        for (int i = 0; i < n; i++)
        {
            gpa[i] = gpas[i];
            size[i] = sizes[i];
            uva[i] = uvas[i];
            mmapOffset[i] = offsets[i];
            mapAddress[i] = mapped[i];
            refs[i] = 1;
        }
        count = n;
        rebuild();
        return null;
    }

    /**
     * How many ADD_MEM_REGs hold the region with exactly these fields (0: none). QEMU's vhost-user
     * net sends each region once per queue pair's vhost device; the copies share one mapping.
     */
    public int references(final long g, final long s, final long u, final long o)
    {
        for (int i = 0; i < count; i++)
        {
            if (gpa[i] == g && size[i] == s && uva[i] == u && mmapOffset[i] == o)
            {
                return refs[i];
            }
        }
        return 0;
    }

    /** {@link #references} by gpa, size and user address only: QEMU's REM_MEM_REG carries mmap_offset 0. */
    public int references(final long g, final long s, final long u)
    {
        for (int i = 0; i < count; i++)
        {
            if (gpa[i] == g && size[i] == s && uva[i] == u)
            {
                return refs[i];
            }
        }
        return 0;
    }

    /**
     * ADD_MEM_REG: one more region, or one more reference to an identical one (the caller still
     * owns and closes the fd). Returns why it was refused, or null.
     */
    public String add(final long g, final long s, final long u, final long o, final int fd)
    {
        for (int i = 0; i < count; i++)
        {
            if (gpa[i] == g && size[i] == s && uva[i] == u && mmapOffset[i] == o)
            {
                if (refs[i] == Integer.MAX_VALUE)
                {
                    return "region gpa 0x" + Long.toHexString(g) + " added too often";
                }
                refs[i]++;
                return null;
            }
        }
        if (count == maxSlots)
        {
            return "all " + maxSlots + " memory slots are used";
        }
        final String problem = check(g, s, u, o, gpa, size, uva, count);
        if (problem != null)
        {
            return problem;
        }
        final long address = map(fd, s, o);
        if (address < 0)
        {
            return address == -2 ? "region fd is shorter than mmap_offset + size 0x" + Long.toHexString(o + s) :
                "mmap of region fd failed";
        }
        gpa[count] = g;
        size[count] = s;
        uva[count] = u;
        mmapOffset[count] = o;
        mapAddress[count] = address;
        refs[count] = 1;
        count++;
        rebuild();
        return null;
    }

    /** REM_MEM_REG: the region with this gpa, size and user address (its last reference unmaps it). Returns why not, or null. */
    public String remove(final long g, final long s, final long u)
    {
        for (int i = 0; i < count; i++)
        {
            if (gpa[i] == g && size[i] == s && uva[i] == u)
            {
                if (refs[i] > 1)
                {
                    refs[i]--;
                    return null;
                }
                Libc.munmap(mapAddress[i] - mmapOffset[i], mmapOffset[i] + size[i]);
                count--;
                gpa[i] = gpa[count];
                size[i] = size[count];
                uva[i] = uva[count];
                mmapOffset[i] = mmapOffset[count];
                mapAddress[i] = mapAddress[count];
                refs[i] = refs[count];
                rebuild();
                return null;
            }
        }
        return "no region at gpa 0x" + Long.toHexString(g) + " size 0x" + Long.toHexString(s);
    }

    /** Unmaps every region (disconnect, replacement). */
    public void unmapAll()
    {
        for (int i = 0; i < count; i++)
        {
            Libc.munmap(mapAddress[i] - mmapOffset[i], mmapOffset[i] + size[i]);
            mapAddress[i] = 0;
        }
        count = 0;
        memory = null;
    }

    /** Translates a front-end virtual address range to guest-physical, or -1 when it is not all mapped. */
    public long userToGuestPhysical(final long userAddress, final long length)
    {
        return memory == null ? -1 : memory.hostVirtualToGuestPhysical(userAddress, length);
    }

    /** Maps fd from 0 for offset + size; the address of the region's first byte, -1 (mmap failed) or -2 (short file). */
    private static long map(final int fd, final long s, final long o)
    {
        final long fileLength = Libc.lseek(fd, 0, Libc.SEEK_END);
        if (fileLength >= 0 && fileLength < o + s)
        {
            return -2;
        }
        final long address = Libc.mmap(0, o + s, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        return address == Libc.MAP_FAILED || address == 0 ? -1 : address + o;
    }

    private void rebuild()
    {
        if (count == 0)
        {
            memory = null;
            return;
        }
        final GuestMemory.Builder builder = GuestMemory.builder();
        for (int i = 0; i < count; i++)
        {
            builder.addAddress(gpa[i], mapAddress[i], size[i], uva[i]);
        }
        memory = builder.build();
    }
}
