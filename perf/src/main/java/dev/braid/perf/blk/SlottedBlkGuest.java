package dev.braid.perf.blk;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;

import static dev.braid.virtio.blk.BlkDescriptor.REQ_HEADER_LENGTH;

/**
 * What the benchmark virtio-blk guests share: {@code depth} slots in guest memory, each one request
 * of {@code requestBytes} (data, page aligned, then the 16-byte header, then the status byte), kept
 * posted as one (header, data, status) chain and reposted as soon as it is reaped. A subclass
 * writes what varies in a slot's header before each post ({@link #prepare}) and sees each
 * completion ({@link #onCompleted}). Nothing allocates after construction.
 */
public abstract class SlottedBlkGuest implements Agent, UsedConsumer
{
    protected final DriverQueue queue;
    protected final GuestMemory memory;
    protected final int requestBytes;
    private final long[] slotGpa;
    private final int[] slotOfId;
    private final int[] freeSlots;
    private final BufferChain chain = new BufferChain(3);
    private int freeCount;

    /** @param areaGpa start of the guest memory the slots use: {@code depth * slotBytes(requestBytes)}. */
    protected SlottedBlkGuest(
        final DriverQueue queue, final GuestMemory memory, final long areaGpa, final int requestBytes, final int depth)
    {
        if (depth * 3 > queue.size())
        {
            throw new IllegalArgumentException("depth " + depth + " needs " + depth * 3 + " descriptors");
        }
        this.queue = queue;
        this.memory = memory;
        this.requestBytes = requestBytes;
        slotGpa = new long[depth];
        slotOfId = new int[queue.size()];
        freeSlots = new int[depth];
        for (int s = 0; s < depth; s++)
        {
            slotGpa[s] = areaGpa + (long)s * slotBytes(requestBytes);
            freeSlots[freeCount++] = s;
        }
    }

    /** Guest memory of one slot: data (page aligned), header, status, rounded to a page. */
    public static int slotBytes(final int requestBytes)
    {
        return (requestBytes + REQ_HEADER_LENGTH + 1 + 4095) & ~4095;
    }

    /** The guest address of {@code slot}'s request header: type at 0, reserved at 4, sector at 8. */
    protected final long header(final int slot)
    {
        return slotGpa[slot] + requestBytes;
    }

    /**
     * Before {@code slot} is posted (again): writes what varies in its header. A post the ring has
     * no room for is prepared again at the next one.
     *
     * @return whether the request reads (the device writes the data buffer).
     */
    protected abstract boolean prepare(int slot);

    /** After a pass reaped what was used, before it posts the free slots again. */
    protected void beforePosting()
    {
    }

    /** {@code slot}, posted as chain {@code id}, completed with {@code status}; it is free again. */
    protected abstract void onCompleted(int slot, int id, int status);

    public final int doWork()
    {
        int work = queue.reap(this);
        beforePosting();
        boolean added = false;
        while (freeCount > 0)
        {
            final int slot = freeSlots[freeCount - 1];
            final long data = slotGpa[slot];
            final long header = data + requestBytes;
            final boolean reads = prepare(slot);
            chain.clear();
            chain.readable(header, REQ_HEADER_LENGTH);
            if (reads)
            {
                chain.writable(data, requestBytes);
            }
            else
            {
                chain.readable(data, requestBytes);
            }
            chain.writable(header + REQ_HEADER_LENGTH, 1);
            final int id = queue.addChain(chain, false);
            if (id < 0)
            {
                break;
            }
            freeCount--;
            slotOfId[id] = slot;
            added = true;
            work++;
        }
        if (added)
        {
            queue.publish();
            // A device driven by polling ignores kicks, but a real driver asks: keep its cost.
            queue.needsKick();
        }
        return work;
    }

    public final void onUsed(final int id, final int len)
    {
        final int slot = slotOfId[id];
        freeSlots[freeCount++] = slot;
        onCompleted(slot, id, memory.getByte(header(slot) + REQ_HEADER_LENGTH) & 0xFF);
    }

    /** Requests posted and not reaped. */
    public final int outstanding()
    {
        return freeSlots.length - freeCount;
    }
}
