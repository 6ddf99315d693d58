package dev.braid.aggregator.scsi;

import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small multipath HBA for the aggregator's scsi tests (single-threaded, deterministic): target 0,
 * LUN 0 over a block array shared by every card; READ/WRITE (10) and (16), TEST UNIT READY; commands
 * run when due on the virtual clock. Fail-stop swallows everything; fence cancels pending commands
 * with RESET; ABORT TASK and resets abort pending commands with ABORTED. TMF calls are logged.
 * Stands in for backends-sim's SimHba until that lands on main.
 */
final class FakeHba implements ScsiCard, TimerSource
{
    static final int BLOCK = 512;

    private final String name;
    private final VirtualClock clock;
    private final byte[] store;
    private final int queues;
    private final int depth;
    private final long minLatency;
    private final long maxLatency;
    private final SplittableRandom random;
    private final List<Pending> pending = new ArrayList<>();
    private final List<long[]> tmfAnswers = new ArrayList<>();
    private final List<CompletionSink> tmfSinks = new ArrayList<>();
    final List<String> tmfLog = new ArrayList<>();
    private boolean failStopped;
    private boolean fenced;
    private CardEventListener listener;
    long commands;

    private static final class Pending
    {
        ScsiIo io;
        long token;
        CompletionSink sink;
        long dueAt;
        int queue;
        int forced = -1;
    }

    FakeHba(final String name, final VirtualClock clock, final byte[] store, final int queues, final int depth,
        final long minLatency, final long maxLatency, final long seed)
    {
        this.name = name;
        this.clock = clock;
        this.store = store;
        this.queues = queues;
        this.depth = depth;
        this.minLatency = minLatency;
        this.maxLatency = maxLatency;
        this.random = new SplittableRandom(seed);
    }

    public String name()
    {
        return name;
    }

    public int queueCount()
    {
        return queues;
    }

    public int queueDepth()
    {
        return depth;
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        if (fenced || inFlight(queue) >= depth)
        {
            return false;
        }
        final Pending p = new Pending();
        p.io = io;
        p.token = token;
        p.sink = sink;
        p.queue = queue;
        p.dueAt = clock.nanoTime() + minLatency + (maxLatency > minLatency ? random.nextLong(maxLatency - minLatency) : 0);
        pending.add(p);
        commands++;
        return true;
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        if (fenced)
        {
            return false;
        }
        tmfLog.add(function + ":" + tag);
        if (failStopped)
        {
            return true;
        }
        for (final Pending p : pending)
        {
            if (p.forced < 0 && p.io.target() == target &&
                (function == TMF_I_T_NEXUS_RESET || (p.io.lun() == lun && (function == TMF_LOGICAL_UNIT_RESET || p.io.tag() == tag))))
            {
                p.forced = ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_ABORTED, 0);
            }
        }
        tmfAnswers.add(new long[]{ token, VirtioScsi.VIRTIO_SCSI_S_OK });
        tmfSinks.add(sink);
        return true;
    }

    public int poll(final int queue)
    {
        if (failStopped)
        {
            return 0;
        }
        int work = 0;
        while (queue == 0 && !tmfAnswers.isEmpty())
        {
            final long[] answer = tmfAnswers.get(0);
            if (!tmfSinks.get(0).complete(answer[0], (int)answer[1], 0))
            {
                break;
            }
            tmfAnswers.remove(0);
            tmfSinks.remove(0);
            work++;
        }
        final long now = clock.nanoTime();
        for (int i = 0; i < pending.size(); i++)
        {
            final Pending p = pending.get(i);
            if (p.queue != queue || (p.forced < 0 && now < p.dueAt))
            {
                continue;
            }
            final int[] length = new int[1];
            final int result = p.forced >= 0 ? p.forced : execute(p.io, length);
            if (p.sink.complete(p.token, result, p.forced >= 0 ? 0 : length[0]))
            {
                pending.remove(i--);
                work++;
            }
        }
        return work;
    }

    private int execute(final ScsiIo io, final int[] length)
    {
        final byte[] cdb = io.cdb();
        final int opcode = cdb[0] & 0xFF;
        if (io.target() != 0 || io.lun() != 0)
        {
            return ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_BAD_TARGET, 0);
        }
        final long lba;
        final long blocks;
        switch (opcode)
        {
            case 0x00:
                return 0;
            case 0x28:
            case 0x2A:
                lba = be(cdb, 2, 4);
                blocks = be(cdb, 7, 2);
                break;
            case 0x88:
            case 0x8A:
                lba = be(cdb, 2, 8);
                blocks = be(cdb, 10, 4);
                break;
            default:
                return checkCondition(io, 0x05, 0x20);
        }
        if (lba + blocks > store.length / BLOCK)
        {
            return checkCondition(io, 0x05, 0x21);
        }
        final int bytes = (int)(blocks * BLOCK);
        final boolean write = opcode == 0x2A || opcode == 0x8A;
        final IoVector data = write ? io.dataOut() : io.dataIn();
        if (data.totalLength() < bytes)
        {
            return checkCondition(io, 0x05, 0x24);
        }
        length[0] = write ? data.copyOut(0, store, (int)(lba * BLOCK), bytes) : data.copyIn(0, store, (int)(lba * BLOCK), bytes);
        return 0;
    }

    private static int checkCondition(final ScsiIo io, final int key, final int asc)
    {
        final byte[] sense = io.sense();
        java.util.Arrays.fill(sense, 0, 18, (byte)0);
        sense[0] = 0x70;
        sense[2] = (byte)key;
        sense[7] = 10;
        sense[12] = (byte)asc;
        return ScsiIo.packResult(2, VirtioScsi.VIRTIO_SCSI_S_OK, 18);
    }

    private static long be(final byte[] b, final int offset, final int length)
    {
        long v = 0;
        for (int i = 0; i < length; i++)
        {
            v = v << 8 | (b[offset + i] & 0xFF);
        }
        return v;
    }

    private int inFlight(final int queue)
    {
        int n = 0;
        for (final Pending p : pending)
        {
            n += p.queue == queue ? 1 : 0;
        }
        return n;
    }

    /** Whether a command with {@code tag} is pending here. */
    boolean holds(final long tag)
    {
        for (final Pending p : pending)
        {
            if (p.forced < 0 && p.io.tag() == tag)
            {
                return true;
            }
        }
        return false;
    }

    int pendingCount()
    {
        return pending.size();
    }

    void failStop()
    {
        failStopped = true;
        if (listener != null)
        {
            listener.onLinkChange(this, false);
        }
    }

    public void fence()
    {
        fenced = true;
        for (final Pending p : pending)
        {
            p.forced = ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_RESET, 0);
        }
        if (failStopped)
        {
            pending.clear();
        }
    }

    public void unfence()
    {
        fenced = false;
    }

    public boolean isLinkUp()
    {
        return !failStopped;
    }

    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    public long nextEventNanos()
    {
        if (failStopped)
        {
            return NONE;
        }
        if (!tmfAnswers.isEmpty())
        {
            return clock.nanoTime();
        }
        long next = NONE;
        for (final Pending p : pending)
        {
            next = Math.min(next, p.forced >= 0 ? clock.nanoTime() : p.dueAt);
        }
        return next;
    }
}
