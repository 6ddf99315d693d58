package dev.braid.cards.file;

import static dev.braid.cards.file.IoUringDescriptor.*;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;

/**
 * One card queue: an io_uring, {@code depth} request slots, and per slot a preallocated iovec array
 * in native memory that points straight at the guest's buffers.
 *
 * <p><b>Single owner.</b> All methods run on one thread at a time: the queue's card worker
 * ({@link #submit}, {@link #poll}), or the thread in {@code FileBlockCard.fence()} while the worker
 * is held off ({@link #drainForFence}). The card hands the queue over through volatile fields
 * ({@link #busy} and the card's fencing flag), which also publish the plain fields here.
 *
 * <p><b>Slots.</b> user_data = generation &lt;&lt; 16 | slot. A slot is free, in flight (one SQE
 * submitted, its CQE not yet reaped), or ready (finished, its completion waiting for the sink). A
 * completion goes to the sink only after the kernel posted the CQE, so the kernel is done with the
 * guest buffers by then. Requests refused before reaching the ring (out of range, too many
 * segments) go straight to ready.
 */
final class FileCardQueue
{
    static final long CANCEL_USER_DATA = -1L;
    private static final int SLOT_BITS = 16;
    private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;
    private static final int NO_DATA = -1;

    /** 1 while the worker is inside submit or poll; the worker half of the Dekker pair with fence(). */
    volatile int busy;

    private final int index;
    private final FileTarget target;
    private final boolean useDirect;
    private final int depth;
    private final int submitBatch;
    /** Per slot, the number of the enter that hands (or handed) its SQE to the kernel. */
    private final long[] enterOf;
    private long enters;
    /** The last enter's requests all completed inside it (page-cache hits): batch until poll. */
    private boolean completingInline;
    private final int iovecCapacity;
    private final long capacityBytes;
    private final IoUring ring;
    private final UnsafeBuffer iovecs;
    private final long iovecsAddress;

    private final long[] tokens;
    private final CompletionSink[] sinks;
    private final int[] generations;
    private final boolean[] inFlight;
    private final boolean[] dataOp;
    private final int[] expected;
    private final int[] statuses;
    private final int[] lengths;
    private final int[] freeSlots;
    private int freeCount;
    private final int[] ready;
    private final int readyMask;
    private long readyHead;
    private long readyTail;
    private int inFlightCount;

    private boolean draining;
    private boolean cancelOutstanding;
    private boolean failed;
    private String failure;

    // Written by the owner thread; read racily by stats getters on other threads.
    long directRequests;
    long bufferedRequests;
    long completions;
    long errors;
    long cancelled;
    long staleCompletions;
    long abandoned;

    FileCardQueue(
        final int index, final FileTarget target, final boolean useDirect, final int depth, final int maxSegments,
        final int submitBatch)
    {
        this.index = index;
        this.target = target;
        this.useDirect = useDirect && target.directFd() >= 0;
        this.depth = depth;
        this.submitBatch = submitBatch;
        this.enterOf = new long[depth];
        // Splitting at guest memory region borders may add segments; leave room for a few.
        this.iovecCapacity = Math.min(FileCardContext.MAX_SEGMENTS, maxSegments + 8);
        this.capacityBytes = target.sizeBytes() & ~(long)(BlockIo.SECTOR_SIZE - 1);
        // One spare SQE for the fence's ASYNC_CANCEL.
        this.ring = new IoUring(depth + 1);
        final ByteBuffer native_ = BufferUtil.allocateDirectAligned(depth * iovecCapacity * IOVEC_LENGTH, 64);
        this.iovecs = new UnsafeBuffer(native_);
        this.iovecsAddress = iovecs.addressOffset();
        tokens = new long[depth];
        sinks = new CompletionSink[depth];
        generations = new int[depth];
        inFlight = new boolean[depth];
        dataOp = new boolean[depth];
        expected = new int[depth];
        statuses = new int[depth];
        lengths = new int[depth];
        freeSlots = new int[depth];
        for (int i = 0; i < depth; i++)
        {
            freeSlots[i] = depth - 1 - i;
        }
        freeCount = depth;
        final int readyCapacity = 1 << (32 - Integer.numberOfLeadingZeros(Math.max(1, depth - 1)));
        ready = new int[Math.max(readyCapacity, 2)];
        readyMask = ready.length - 1;
    }

    int index()
    {
        return index;
    }

    boolean isFailed()
    {
        return failed;
    }

    String failure()
    {
        return failure;
    }

    /** io_uring_enter calls made to submit (racy read): with {@link #completions} it gives requests per syscall. */
    long enterCalls()
    {
        return ring.enterCalls;
    }

    /** io_uring_enter calls that slept for a CQE (racy read). */
    long waitCalls()
    {
        return ring.waitCalls;
    }

    int inFlightCount()
    {
        return inFlightCount;
    }

    /** Slots not free: in flight or waiting for their sink. */
    int occupied()
    {
        return depth - freeCount;
    }

    // ---------------------------------------------------------------- owner thread

    boolean submit(final BlockIo io, final long token, final CompletionSink sink)
    {
        if (failed || freeCount == 0)
        {
            return false;
        }
        final int slot = freeSlots[--freeCount];
        final int generation = (generations[slot] + 1) & 0x7FFF_FFFF;
        generations[slot] = generation;
        tokens[slot] = token;
        sinks[slot] = sink;
        final long userData = ((long)generation << SLOT_BITS) | slot;
        final int operation = io.operation();
        final long sector = io.sector();
        final boolean prepared;
        switch (operation)
        {
            case BlockIo.READ:
            case BlockIo.WRITE:
                prepared = prepareData(slot, io, operation, sector, userData);
                break;
            case BlockIo.FLUSH:
                prepared = prepareOther(slot, IORING_OP_FSYNC, target.bufferedFd(), 0, 0, 0, IORING_FSYNC_DATASYNC, userData);
                break;
            case BlockIo.DISCARD:
            case BlockIo.WRITE_ZEROES:
            {
                final long count = io.sectorCount();
                if (!inRange(sector, count))
                {
                    finishLocally(slot, CardStatus.INVALID);
                    return true;
                }
                final int mode = FALLOC_FL_KEEP_SIZE |
                    (operation == BlockIo.DISCARD ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
                // FALLOCATE takes the length in addr and the mode in len.
                prepared = prepareOther(slot, IORING_OP_FALLOCATE, target.bufferedFd(),
                    sector * BlockIo.SECTOR_SIZE, count * BlockIo.SECTOR_SIZE, mode, 0, userData);
                break;
            }
            default:
                finishLocally(slot, CardStatus.UNSUPPORTED);
                return true;
        }
        if (prepared)
        {
            inFlight[slot] = true;
            inFlightCount++;
            enterOf[slot] = enters + 1;
            if (!completingInline && ring.unsubmitted() >= submitBatch)
            {
                enter();
            }
        }
        return true;
    }

    private boolean inRange(final long sector, final long sectorCount)
    {
        final long sectors = capacityBytes / BlockIo.SECTOR_SIZE;
        return sector >= 0 && sectorCount > 0 && sector <= sectors && sectorCount <= sectors - sector;
    }

    private boolean prepareData(final int slot, final BlockIo io, final int operation, final long sector, final long userData)
    {
        final IoVector data = io.data();
        final long total = data.totalLength();
        if (total <= 0 || total > Integer.MAX_VALUE || (total & (BlockIo.SECTOR_SIZE - 1)) != 0 ||
            !inRange(sector, total / BlockIo.SECTOR_SIZE))
        {
            finishLocally(slot, CardStatus.INVALID);
            return false;
        }
        final GuestMemory memory = data.memory();
        final long base = iovecsAddress + (long)slot * iovecCapacity * IOVEC_LENGTH;
        final int baseOffset = slot * iovecCapacity * IOVEC_LENGTH;
        final long memAlign = target.memoryAlign() - 1;
        final long offAlign = target.offsetAlign() - 1;
        final long fileOffset = sector * BlockIo.SECTOR_SIZE;
        boolean aligned = useDirect && (fileOffset & offAlign) == 0 && (total & offAlign) == 0;
        int count = 0;
        for (int i = 0, n = data.count(); i < n; i++)
        {
            long gpa = data.address(i);
            long remaining = data.length(i) & 0xFFFF_FFFFL;
            while (remaining > 0)
            {
                final int region = memory.regionIndex(gpa, 1);
                if (region < 0 || count == iovecCapacity)
                {
                    finishLocally(slot, CardStatus.INVALID);
                    return false;
                }
                final UnsafeBuffer buffer = memory.buffer(region);
                final long inRegion = Math.min(remaining, memory.region(region).guestPhysicalEnd() - gpa);
                final long host = buffer.addressOffset() + memory.offset(region, gpa);
                aligned &= (host & memAlign) == 0 && (inRegion & offAlign) == 0;
                iovecs.putLong(baseOffset + count * IOVEC_LENGTH, host);
                iovecs.putLong(baseOffset + count * IOVEC_LENGTH + 8, inRegion);
                count++;
                gpa += inRegion;
                remaining -= inRegion;
            }
        }
        final int fd;
        if (aligned)
        {
            fd = target.directFd();
            directRequests++;
        }
        else
        {
            fd = target.bufferedFd();
            bufferedRequests++;
        }
        dataOp[slot] = true;
        expected[slot] = (int)total;
        final byte opcode = operation == BlockIo.READ ? IORING_OP_READV : IORING_OP_WRITEV;
        if (!ring.prepare(opcode, fd, fileOffset, base, count, 0, userData))
        {
            finishLocally(slot, CardStatus.IO_ERROR);
            return false;
        }
        return true;
    }

    private boolean prepareOther(
        final int slot, final byte opcode, final int fd, final long offset, final long address, final int length,
        final int opFlags, final long userData)
    {
        dataOp[slot] = false;
        expected[slot] = NO_DATA;
        if (!ring.prepare(opcode, fd, offset, address, length, opFlags, userData))
        {
            finishLocally(slot, CardStatus.IO_ERROR);
            return false;
        }
        return true;
    }

    private void finishLocally(final int slot, final int status)
    {
        statuses[slot] = status;
        lengths[slot] = 0;
        ready[(int)(readyTail++ & readyMask)] = slot;
    }

    /** One io_uring_enter for what submit prepared, then reaps CQEs and reports ready slots. */
    int poll()
    {
        int work = 0;
        if (!failed && ring.unsubmitted() > 0)
        {
            enter();
        }
        if (!failed)
        {
            work += reap();
        }
        return work + deliver();
    }

    /** One io_uring_enter for the prepared entries; what the kernel did not take (EAGAIN, EBUSY) goes with the next. */
    private void enter()
    {
        final int before = ring.ready();
        final int result = ring.submit(0);
        if (result < 0 && result != -LinuxNative.EAGAIN && result != -LinuxNative.EBUSY && result != -LinuxNative.EINTR)
        {
            failHard("io_uring_enter failed: " + LinuxNative.errnoName(-result));
            return;
        }
        enters++;
        if (result > 0)
        {
            // Did every request of this enter complete inside it? Count the new CQEs that are its own.
            final int after = ring.ready();
            int own = 0;
            for (int i = before; i < after; i++)
            {
                final long userData = ring.cqeUserData(i);
                final int slot = (int)(userData & SLOT_MASK);
                if (userData != CANCEL_USER_DATA && slot < depth && enterOf[slot] == enters)
                {
                    own++;
                }
            }
            completingInline = own >= result;
        }
    }

    /** Whether {@link #pollOrWait} would sleep: requests in the kernel, nothing ready, a kernel that takes a timeout. */
    boolean canWait()
    {
        // failed first: a failed ring is unmapped.
        return !failed && readyHead == readyTail && inFlightCount > 0 && ring.canWaitWithTimeout() && ring.ready() == 0;
    }

    /**
     * As {@link #poll}, but when nothing is ready and requests are in the kernel it sleeps in
     * io_uring_enter until a CQE is posted or {@code timeoutNanos} pass, instead of returning at once.
     */
    int pollOrWait(final long timeoutNanos)
    {
        if (!canWait())
        {
            return poll();
        }
        final int result = ring.submitAndWait(timeoutNanos);
        if (result < 0 && result != -LinuxNative.ETIME && result != -LinuxNative.EAGAIN &&
            result != -LinuxNative.EBUSY && result != -LinuxNative.EINTR)
        {
            failHard("io_uring_enter failed: " + LinuxNative.errnoName(-result));
            return deliver();
        }
        return reap() + deliver();
    }

    private int reap()
    {
        final int n = ring.ready();
        for (int i = 0; i < n; i++)
        {
            complete(ring.cqeUserData(i), ring.cqeResult(i));
        }
        if (n > 0)
        {
            ring.advance(n);
        }
        return n;
    }

    private void complete(final long userData, final int result)
    {
        if (userData == CANCEL_USER_DATA)
        {
            cancelOutstanding = false;
            return;
        }
        final int slot = (int)(userData & SLOT_MASK);
        final int generation = (int)(userData >>> SLOT_BITS);
        if (slot >= depth || generations[slot] != generation || !inFlight[slot])
        {
            staleCompletions++;
            return;
        }
        inFlight[slot] = false;
        inFlightCount--;
        final int status;
        int length = 0;
        if (draining)
        {
            // A fence is in progress: whatever the kernel did, the aggregator replays this elsewhere.
            status = CardStatus.CANCELLED;
        }
        else if (result < 0)
        {
            if (result == -LinuxNative.ECANCELED)
            {
                status = CardStatus.CANCELLED;
            }
            else if (!dataOp[slot] && (result == -LinuxNative.EOPNOTSUPP || result == -LinuxNative.EINVAL))
            {
                status = CardStatus.UNSUPPORTED;
            }
            else
            {
                status = CardStatus.IO_ERROR;
            }
        }
        else if (dataOp[slot] && result != expected[slot])
        {
            // A short transfer: the file shrank or the medium is full.
            status = CardStatus.IO_ERROR;
        }
        else
        {
            status = CardStatus.OK;
            length = dataOp[slot] ? result : 0;
        }
        statuses[slot] = status;
        lengths[slot] = length;
        ready[(int)(readyTail++ & readyMask)] = slot;
    }

    private int deliver()
    {
        int work = 0;
        while (readyHead != readyTail)
        {
            final int slot = ready[(int)(readyHead & readyMask)];
            final int status = statuses[slot];
            if (!sinks[slot].complete(tokens[slot], status, lengths[slot]))
            {
                break;
            }
            if (status == CardStatus.OK)
            {
                completions++;
            }
            else if (status == CardStatus.CANCELLED)
            {
                cancelled++;
            }
            else
            {
                errors++;
            }
            sinks[slot] = null;
            readyHead++;
            freeSlots[freeCount++] = slot;
            work++;
        }
        return work;
    }

    // ---------------------------------------------------------------- fence thread, worker held off

    /**
     * Submits what is prepared plus one ASYNC_CANCEL for everything, then waits until every
     * submitted entry has its CQE (all reported CANCELLED), or fails the ring hard at the deadline.
     * Returns true when the queue is quiet, false when it was failed hard.
     */
    boolean drainForFence(final long deadlineNanos)
    {
        if (failed)
        {
            return true;
        }
        draining = true;
        try
        {
            if (inFlightCount == 0)
            {
                ring.discardUnsubmitted();
                return true;
            }
            cancelOutstanding = ring.prepare(IORING_OP_ASYNC_CANCEL, 0, 0, 0, 0,
                IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL, CANCEL_USER_DATA);
            long idleNanos = 1_000;
            while (inFlightCount > 0 || cancelOutstanding)
            {
                if (ring.unsubmitted() > 0)
                {
                    ring.submit(0);
                }
                ring.getEvents();
                if (reap() == 0)
                {
                    if (System.nanoTime() - deadlineNanos > 0)
                    {
                        failHard("fence: " + inFlightCount + " request(s) still in the kernel at the deadline");
                        return false;
                    }
                    LockSupport.parkNanos(idleNanos);
                    idleNanos = Math.min(idleNanos * 2, 1_000_000);
                }
            }
            return true;
        }
        finally
        {
            draining = false;
        }
    }

    /**
     * Closes the ring and unmaps it. The requests still in flight are abandoned: never reported, their
     * slots never reused, because the kernel may still complete them after this returns.
     */
    void failHard(final String reason)
    {
        if (failed)
        {
            return;
        }
        failed = true;
        failure = "queue " + index + ": " + reason;
        abandoned += inFlightCount;
        ring.close();
    }

    /** Card close: the ring goes; what was in flight is abandoned as in {@link #failHard}. */
    void close()
    {
        failHard("closed");
    }
}
