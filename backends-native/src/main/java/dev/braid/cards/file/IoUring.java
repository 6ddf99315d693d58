package dev.braid.cards.file;

import static dev.braid.cards.file.IoUringDescriptor.*;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One io_uring instance over raw syscalls, its SQ/CQ rings and SQE array mapped into this process.
 *
 * <p><b>Single owner.</b> Exactly one thread uses a ring at a time (the card worker of its queue,
 * or the thread running {@code fence()} while the worker is held off); hand-over happens through the
 * card's volatile fence protocol. Nothing here locks or allocates after construction.
 *
 * <p><b>Ordering.</b> The kernel reads SQ tail and writes SQ head; it writes CQ tail and reads CQ
 * head. SQ tail and CQ head are stored with release ({@code putIntOrdered}), SQ head and CQ tail are
 * loaded with acquire ({@code getIntVolatile}), so an SQE is complete before the kernel can see it
 * and a CQE is read only after the kernel published it.
 */
final class IoUring implements AutoCloseable
{
    private static final String UNAVAILABLE = probe();

    private final int fd;
    private final int sqEntries;
    private final int sqMask;
    private final int cqMask;
    private final long sqRingAddress;
    private final long sqRingLength;
    private final long cqRingAddress;
    private final long cqRingLength;
    private final long sqesAddress;
    private final long sqesLength;
    private final UnsafeBuffer sqRing;
    private final UnsafeBuffer cqRing;
    private final UnsafeBuffer sqes;
    private final int sqHeadOffset;
    private final int sqTailOffset;
    private final int cqHeadOffset;
    private final int cqTailOffset;
    private final int cqesOffset;

    private final boolean extArg;
    private final UnsafeBuffer waitArg;
    private final long waitArgAddress;

    private int sqTail;
    private int sqPublished;
    private int cqHead;
    private boolean closed;
    // Written by the owner thread; read racily by stats getters.
    long enterCalls;
    /** Of those, the ones that slept for a CQE ({@link #submitAndWait}). */
    long waitCalls;

    /** Null when io_uring works here, else one line saying why not (EPERM: sysctl or seccomp). */
    static String unavailableReason()
    {
        return UNAVAILABLE;
    }

    private static String probe()
    {
        try
        {
            final ByteBuffer params = BufferUtil.allocateDirectAligned(PARAMS_LENGTH, 8);
            final long address = new UnsafeBuffer(params).addressOffset();
            final long fd = LinuxNative.syscall(SYS_IO_URING_SETUP, 1, address, 0, 0, 0, 0);
            if (fd < 0)
            {
                final int errno = LinuxNative.errno();
                return "io_uring_setup failed: " + LinuxNative.errnoName(errno) +
                    (errno == LinuxNative.EPERM ? " (sysctl kernel.io_uring_disabled or a seccomp filter)" :
                    errno == LinuxNative.ENOSYS ? " (kernel without CONFIG_IO_URING, or filtered)" : "");
            }
            LinuxNative.close((int)fd);
            return null;
        }
        catch (final Throwable ex)
        {
            return "io_uring unavailable: " + ex;
        }
    }

    /** Sets up a ring with at least {@code entries} submission entries (rounded up to a power of two). */
    IoUring(final int entries)
    {
        final ByteBuffer paramsBytes = BufferUtil.allocateDirectAligned(PARAMS_LENGTH, 8);
        final UnsafeBuffer params = new UnsafeBuffer(paramsBytes);
        final long ringFd = LinuxNative.syscall(SYS_IO_URING_SETUP, entries, params.addressOffset(), 0, 0, 0, 0);
        if (ringFd < 0)
        {
            throw new IllegalStateException("io_uring_setup(" + entries + ") failed: " + LinuxNative.errnoName(LinuxNative.errno()));
        }
        fd = (int)ringFd;
        long sqAddress = LinuxNative.MAP_FAILED;
        long cqAddress = LinuxNative.MAP_FAILED;
        long sqesAddr = LinuxNative.MAP_FAILED;
        long sqMapLength = 0;
        long cqMapLength = 0;
        try
        {
            sqEntries = params.getInt(PARAMS_SQ_ENTRIES);
            final int cqEntries = params.getInt(PARAMS_CQ_ENTRIES);
            final int features = params.getInt(PARAMS_FEATURES);
            extArg = (features & IORING_FEAT_EXT_ARG) != 0;
            final int sqArray = params.getInt(PARAMS_SQ_OFF + SQ_OFF_ARRAY);
            cqesOffset = params.getInt(PARAMS_CQ_OFF + CQ_OFF_CQES);
            sqHeadOffset = params.getInt(PARAMS_SQ_OFF + SQ_OFF_HEAD);
            sqTailOffset = params.getInt(PARAMS_SQ_OFF + SQ_OFF_TAIL);
            cqHeadOffset = params.getInt(PARAMS_CQ_OFF + CQ_OFF_HEAD);
            cqTailOffset = params.getInt(PARAMS_CQ_OFF + CQ_OFF_TAIL);

            final long sqLength = sqArray + 4L * sqEntries;
            final long cqLength = cqesOffset + (long)CQE_LENGTH * cqEntries;
            final boolean single = (features & IORING_FEAT_SINGLE_MMAP) != 0;
            final int prot = LinuxNative.PROT_READ | LinuxNative.PROT_WRITE;
            final int flags = LinuxNative.MAP_SHARED | LinuxNative.MAP_POPULATE;
            sqRingLength = single ? Math.max(sqLength, cqLength) : sqLength;
            sqMapLength = sqRingLength;
            sqAddress = map(sqRingLength, prot, flags, IORING_OFF_SQ_RING, "sq ring");
            if (single)
            {
                cqRingLength = 0;
                cqAddress = sqAddress;
            }
            else
            {
                cqRingLength = cqLength;
                cqMapLength = cqLength;
                cqAddress = map(cqLength, prot, flags, IORING_OFF_CQ_RING, "cq ring");
            }
            sqesLength = (long)SQE_LENGTH * sqEntries;
            sqesAddr = map(sqesLength, prot, flags, IORING_OFF_SQES, "sqes");
        }
        catch (final RuntimeException ex)
        {
            unmapQuietly(sqesAddr, (long)SQE_LENGTH * Math.max(0, params.getInt(PARAMS_SQ_ENTRIES)));
            unmapQuietly(cqMapLength > 0 ? cqAddress : LinuxNative.MAP_FAILED, cqMapLength);
            unmapQuietly(sqAddress, sqMapLength);
            LinuxNative.close(fd);
            throw ex;
        }
        sqRingAddress = sqAddress;
        cqRingAddress = cqAddress;
        sqesAddress = sqesAddr;
        sqRing = new UnsafeBuffer(sqRingAddress, (int)Math.max(sqRingLength, 1));
        cqRing = new UnsafeBuffer(cqRingAddress, (int)(cqRingLength == 0 ? sqRingLength : cqRingLength));
        sqes = new UnsafeBuffer(sqesAddress, (int)sqesLength);
        sqMask = sqRing.getInt(params.getInt(PARAMS_SQ_OFF + SQ_OFF_RING_MASK));
        cqMask = cqRing.getInt(params.getInt(PARAMS_CQ_OFF + CQ_OFF_RING_MASK));

        // Identity indirection: SQ array slot i names SQE i, so the SQE at (tail & mask) is the one submitted.
        final int array = params.getInt(PARAMS_SQ_OFF + SQ_OFF_ARRAY);
        for (int i = 0; i < sqEntries; i++)
        {
            sqRing.putInt(array + 4 * i, i);
        }
        waitArg = new UnsafeBuffer(BufferUtil.allocateDirectAligned(TIMESPEC_OFFSET + 16, 8));
        waitArgAddress = waitArg.addressOffset();
        waitArg.putLong(GETEVENTS_ARG_TS, waitArgAddress + TIMESPEC_OFFSET);
        sqTail = sqRing.getIntVolatile(sqTailOffset);
        sqPublished = sqTail;
        cqHead = cqRing.getIntVolatile(cqHeadOffset);
    }

    private long map(final long length, final int prot, final int flags, final long offset, final String what)
    {
        final long address = LinuxNative.mmap(0, length, prot, flags, fd, offset);
        if (address == LinuxNative.MAP_FAILED || address == 0)
        {
            throw new IllegalStateException("io_uring mmap of the " + what + " failed: " + LinuxNative.errnoName(LinuxNative.errno()));
        }
        return address;
    }

    private static void unmapQuietly(final long address, final long length)
    {
        if (address != LinuxNative.MAP_FAILED && address != 0 && length > 0)
        {
            LinuxNative.munmap(address, length);
        }
    }

    int sqEntries()
    {
        return sqEntries;
    }

    /** SQEs written but not yet handed to the kernel by {@link #submit}. */
    int unsubmitted()
    {
        return sqTail - sqPublished;
    }

    /**
     * Writes the next SQE (not yet visible to the kernel). Returns false when the SQ ring is full,
     * which the card's slot accounting rules out.
     */
    boolean prepare(
        final byte opcode, final int fileFd, final long offset, final long address, final int length,
        final int opFlags, final long userData)
    {
        final int head = sqRing.getIntVolatile(sqHeadOffset);
        if (sqTail - head >= sqEntries)
        {
            return false;
        }
        final int sqe = (sqTail & sqMask) * SQE_LENGTH;
        sqes.setMemory(sqe, SQE_LENGTH, (byte)0);
        sqes.putByte(sqe + SQE_OPCODE, opcode);
        sqes.putInt(sqe + SQE_FD, fileFd);
        sqes.putLong(sqe + SQE_OFF, offset);
        sqes.putLong(sqe + SQE_ADDR, address);
        sqes.putInt(sqe + SQE_LEN, length);
        sqes.putInt(sqe + SQE_OP_FLAGS, opFlags);
        sqes.putLong(sqe + SQE_USER_DATA, userData);
        sqTail++;
        return true;
    }

    /** Drops SQEs written since the last {@link #submit}: the kernel never saw them. */
    void discardUnsubmitted()
    {
        sqTail = sqPublished;
    }

    /**
     * Publishes the prepared SQEs (release store of SQ tail) and makes one io_uring_enter call,
     * waiting for {@code minComplete} completions. Returns the SQEs the kernel took, or -errno.
     */
    int submit(final int minComplete)
    {
        final int toSubmit = sqTail - sqPublished;
        if (toSubmit > 0)
        {
            sqRing.putIntOrdered(sqTailOffset, sqTail);
        }
        final int flags = minComplete > 0 ? IORING_ENTER_GETEVENTS : 0;
        enterCalls++;
        final long result = LinuxNative.syscall(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
        if (result < 0)
        {
            return -LinuxNative.errno();
        }
        // The kernel consumes SQEs in order; any it did not take stay published and are taken next time.
        sqPublished += (int)result;
        return (int)result;
    }

    /** Runs pending task work so finished requests post their CQEs (no submission). */
    void getEvents()
    {
        LinuxNative.syscall(SYS_IO_URING_ENTER, fd, 0, 0, IORING_ENTER_GETEVENTS, 0, 0);
    }

    /**
     * Submits what is prepared and sleeps in the kernel until at least one CQE is posted or
     * {@code timeoutNanos} pass (IORING_ENTER_EXT_ARG timeout; without that feature it only
     * submits). Returns the SQEs the kernel took, or -errno (-ETIME on timeout).
     */
    int submitAndWait(final long timeoutNanos)
    {
        if (!extArg)
        {
            return submit(0);
        }
        final int toSubmit = sqTail - sqPublished;
        if (toSubmit > 0)
        {
            sqRing.putIntOrdered(sqTailOffset, sqTail);
        }
        waitArg.putLong(TIMESPEC_OFFSET + TIMESPEC_SEC, timeoutNanos / 1_000_000_000L);
        waitArg.putLong(TIMESPEC_OFFSET + TIMESPEC_NSEC, timeoutNanos % 1_000_000_000L);
        enterCalls++;
        waitCalls++;
        final long result = LinuxNative.syscall(SYS_IO_URING_ENTER, fd, toSubmit, 1,
            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, waitArgAddress, GETEVENTS_ARG_LENGTH);
        if (result < 0)
        {
            return -LinuxNative.errno();
        }
        sqPublished += (int)result;
        return (int)result;
    }

    /** Whether {@link #submitAndWait} can sleep (the kernel has IORING_FEAT_EXT_ARG). */
    boolean canWaitWithTimeout()
    {
        return extArg;
    }

    /** Completions ready to read (acquire load of CQ tail). */
    int ready()
    {
        return cqRing.getIntVolatile(cqTailOffset) - cqHead;
    }

    long cqeUserData(final int index)
    {
        return cqRing.getLong(cqesOffset + ((cqHead + index) & cqMask) * CQE_LENGTH + CQE_USER_DATA);
    }

    int cqeResult(final int index)
    {
        return cqRing.getInt(cqesOffset + ((cqHead + index) & cqMask) * CQE_LENGTH + CQE_RES);
    }

    /** Returns {@code count} CQEs to the kernel (release store of CQ head). */
    void advance(final int count)
    {
        cqHead += count;
        cqRing.putIntOrdered(cqHeadOffset, cqHead);
    }

    boolean isClosed()
    {
        return closed;
    }

    /** Closes the ring fd and unmaps the rings. The kernel cancels what it can and reaps the rest on its own. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        unmapQuietly(sqesAddress, sqesLength);
        if (cqRingLength > 0)
        {
            unmapQuietly(cqRingAddress, cqRingLength);
        }
        unmapQuietly(sqRingAddress, sqRingLength);
        LinuxNative.close(fd);
    }
}
