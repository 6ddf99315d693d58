package dev.braid.perf.vhostuser;

import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.vhostuser.Libc;
import dev.braid.vhostuser.VhostUserRequest;
import dev.braid.vhostuser.frontend.VhostUserFrontEnd;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Path;

import static dev.braid.virtio.blk.VirtioBlk.*;
import static dev.braid.virtio.device.VirtioFeatures.*;
import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * A vhost-user-blk device brought up the way QEMU 7.2 brings one up (vhost_user_backend_init,
 * vhost_user_blk realize, vhost_dev_start) on {@link VhostUserFrontEnd}'s memfd memory, with split
 * rings driven by the testkit driver model. Works against any vhost-user-blk back end.
 *
 * <p>Memory layout: the rings of every queue first, then each queue's request slots (16-byte
 * header, 16-byte status cell, data buffer of the block size).
 */
public final class BlkFrontEnd implements AutoCloseable
{
    /** Protocol features this front end implements; the rest are never acked. */
    static final long PROTOCOL_FEATURES_SPOKEN = (1L << PROTOCOL_F_MQ) | (1L << PROTOCOL_F_REPLY_ACK) |
        (1L << PROTOCOL_F_CONFIG) | (1L << PROTOCOL_F_CONFIGURE_MEM_SLOTS);
    /** Device features acked when offered: what a Linux guest driving a plain split ring takes. */
    static final long BLK_FEATURES_ACCEPTED = (1L << VIRTIO_F_VERSION_1) | (1L << F_PROTOCOL_FEATURES) |
        (1L << VIRTIO_BLK_F_SIZE_MAX) | (1L << VIRTIO_BLK_F_SEG_MAX) | (1L << VIRTIO_BLK_F_GEOMETRY) |
        (1L << VIRTIO_BLK_F_BLK_SIZE) | (1L << VIRTIO_BLK_F_FLUSH) | (1L << VIRTIO_BLK_F_TOPOLOGY) |
        (1L << VIRTIO_BLK_F_MQ) | (1L << VIRTIO_BLK_F_RO);

    private static final int HEADER_STRIDE = 16;
    private static final int STATUS_STRIDE = 16;

    final VhostUserFrontEnd fe;
    final UnsafeBuffer guest;
    final int queues;
    final int depth;
    final int blockSize;
    final long features;
    final long protocolFeatures;
    final long capacityBytes;
    final boolean eventIdx;
    final boolean indirect;
    final SplitDriverQueue[] rings;
    final int[] kicks;
    final int[] calls;
    private final long[] slotBase;
    private boolean started;

    private BlkFrontEnd(final VhostUserFrontEnd fe, final int queues, final int depth, final int blockSize,
        final long features, final long protocolFeatures, final long capacityBytes, final RingLayout[] layouts,
        final long[] slotBase)
    {
        this.fe = fe;
        this.guest = new UnsafeBuffer(fe.memAddress, (int)Math.min(fe.memSize, Integer.MAX_VALUE));
        this.queues = queues;
        this.depth = depth;
        this.blockSize = blockSize;
        this.features = features;
        this.protocolFeatures = protocolFeatures;
        this.capacityBytes = capacityBytes;
        this.eventIdx = (features & (1L << VIRTIO_F_EVENT_IDX)) != 0;
        this.indirect = (features & (1L << VIRTIO_F_INDIRECT_DESC)) != 0;
        this.slotBase = slotBase;
        rings = new SplitDriverQueue[queues];
        kicks = new int[queues];
        calls = new int[queues];
        for (int q = 0; q < queues; q++)
        {
            rings[q] = new SplitDriverQueue(fe.memory, layouts[q], eventIdx);
            kicks[q] = -1;
            calls[q] = -1;
        }
    }

    /**
     * Connects, negotiates and starts {@code queues} rings.
     *
     * @param eventIdx ack VIRTIO_F_EVENT_IDX if offered (QEMU with a Linux guest does)
     * @param indirect ack VIRTIO_F_INDIRECT_DESC if offered and post each request as one indirect descriptor
     */
    public static BlkFrontEnd start(final Path socket, final int queues, final int depth, final int blockSize,
        final boolean eventIdx, final boolean indirect) throws IOException
    {
        if (queues < 1 || depth < 1 || blockSize < 512 || blockSize % 512 != 0)
        {
            throw new IllegalArgumentException("queues " + queues + ", depth " + depth + ", block size " + blockSize);
        }
        final int descriptorsPerRequest = indirect ? 1 : 3;
        final int queueSize = Math.max(16, Integer.highestOneBit(Math.max(1, depth * descriptorsPerRequest - 1)) << 1);
        final RingLayout[] layouts = new RingLayout[queues];
        final long[] slotBase = new long[queues];
        long at = 0x1000;
        for (int q = 0; q < queues; q++)
        {
            layouts[q] = RingLayout.split(at, queueSize, 3);
            at = RingLayout.alignUp(layouts[q].endGpa(), 4096);
        }
        for (int q = 0; q < queues; q++)
        {
            slotBase[q] = at;
            at = RingLayout.alignUp(at + (long)depth * (HEADER_STRIDE + STATUS_STRIDE), 4096) + (long)depth * blockSize;
        }
        final long memSize = RingLayout.alignUp(at, 2 << 20);
        if (memSize > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("queues x depth x block size need " + memSize + " bytes of guest memory; at most 2 GiB");
        }
        final VhostUserFrontEnd fe = new VhostUserFrontEnd(socket, memSize);
        try
        {
            return negotiate(fe, queues, depth, blockSize, eventIdx, indirect, layouts, slotBase);
        }
        catch (final IOException | RuntimeException ex)
        {
            fe.close();
            throw ex;
        }
    }

    private static BlkFrontEnd negotiate(final VhostUserFrontEnd fe, final int queues, final int depth,
        final int blockSize, final boolean eventIdx, final boolean indirect, final RingLayout[] layouts,
        final long[] slotBase) throws IOException
    {
        // vhost_user_backend_init
        final long offered = fe.getU64(VhostUserRequest.GET_FEATURES);
        long protocol = 0;
        if ((offered & (1L << F_PROTOCOL_FEATURES)) != 0)
        {
            protocol = fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES) & PROTOCOL_FEATURES_SPOKEN;
            fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, protocol);
            if ((protocol & (1L << PROTOCOL_F_MQ)) != 0)
            {
                final long max = fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
                if (max < queues)
                {
                    throw new IOException("back end offers " + max + " queues, " + queues + " wanted");
                }
            }
            if ((protocol & (1L << PROTOCOL_F_CONFIGURE_MEM_SLOTS)) != 0)
            {
                fe.getU64(VhostUserRequest.GET_MAX_MEM_SLOTS);
            }
        }
        if (queues > 1 && (protocol & (1L << PROTOCOL_F_MQ)) == 0)
        {
            throw new IOException("back end does not offer VHOST_USER_PROTOCOL_F_MQ; " + queues + " queues wanted");
        }
        fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
        if ((offered & (1L << VIRTIO_F_VERSION_1)) == 0)
        {
            throw new IOException("back end does not offer VIRTIO_F_VERSION_1: 0x" + Long.toHexString(offered));
        }
        // vhost_user_blk realize: the config space
        long capacityBytes = -1;
        if ((protocol & (1L << PROTOCOL_F_CONFIG)) != 0)
        {
            fe.send(VhostUserRequest.GET_CONFIG, FLAGS_VERSION, VhostUserFrontEnd.config(0, 60));
            final UnsafeBuffer config = fe.reply(VhostUserRequest.GET_CONFIG);
            if (config == null || config.capacity() < HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + 8)
            {
                throw new IOException("no GET_CONFIG reply");
            }
            capacityBytes = config.getLong(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET, LITTLE_ENDIAN) * 512;
        }
        long accepted = BLK_FEATURES_ACCEPTED;
        accepted |= eventIdx ? 1L << VIRTIO_F_EVENT_IDX : 0;
        accepted |= indirect ? 1L << VIRTIO_F_INDIRECT_DESC : 0;
        final long features = offered & accepted;
        if (indirect && (features & (1L << VIRTIO_F_INDIRECT_DESC)) == 0)
        {
            throw new IOException("indirect descriptors wanted, back end does not offer VIRTIO_F_INDIRECT_DESC");
        }
        final BlkFrontEnd blk = new BlkFrontEnd(fe, queues, depth, blockSize, features, protocol, capacityBytes,
            layouts, slotBase);
        blk.startRings(layouts);
        return blk;
    }

    /** vhost_dev_start: features, memory table, then per ring num/base/addr/kick/call, then enable. */
    private void startRings(final RingLayout[] layouts) throws IOException
    {
        fe.setU64(VhostUserRequest.SET_FEATURES, features);
        final byte[] table = VhostUserFrontEnd.memTable(fe.wholeMemory());
        if ((protocolFeatures & (1L << PROTOCOL_F_REPLY_ACK)) != 0)
        {
            final long ack = fe.acked(VhostUserRequest.SET_MEM_TABLE, table, fe.memFd);
            if (ack != 0)
            {
                throw new IOException("SET_MEM_TABLE refused: " + ack);
            }
        }
        else
        {
            fe.send(VhostUserRequest.SET_MEM_TABLE, FLAGS_VERSION, table, fe.memFd);
        }
        for (int q = 0; q < queues; q++)
        {
            kicks[q] = VhostUserFrontEnd.eventfd();
            calls[q] = VhostUserFrontEnd.eventfd();
            if (kicks[q] < 0 || calls[q] < 0)
            {
                throw new IOException("eventfd failed");
            }
            final RingLayout layout = layouts[q];
            fe.send(VhostUserRequest.SET_VRING_NUM, FLAGS_VERSION, VhostUserFrontEnd.state(q, layout.queueSize()));
            fe.send(VhostUserRequest.SET_VRING_BASE, FLAGS_VERSION, VhostUserFrontEnd.state(q, 0));
            fe.send(VhostUserRequest.SET_VRING_ADDR, FLAGS_VERSION, VhostUserFrontEnd.addr(q,
                fe.user(layout.descGpa()), fe.user(layout.usedGpa()), fe.user(layout.availGpa())));
            fe.setU64(VhostUserRequest.SET_VRING_KICK, q, kicks[q]);
            fe.setU64(VhostUserRequest.SET_VRING_CALL, q, calls[q]);
        }
        if ((features & (1L << F_PROTOCOL_FEATURES)) != 0)
        {
            for (int q = 0; q < queues; q++)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, VhostUserFrontEnd.state(q, 1));
            }
        }
        // A reply-bearing request last: every message above has been read by the back end when it comes.
        fe.getU64(VhostUserRequest.GET_FEATURES);
        started = true;
    }

    long headerGpa(final int q, final int slot)
    {
        return slotBase[q] + (long)slot * HEADER_STRIDE;
    }

    long statusGpa(final int q, final int slot)
    {
        return slotBase[q] + (long)depth * HEADER_STRIDE + (long)slot * STATUS_STRIDE;
    }

    long dataGpa(final int q, final int slot)
    {
        return RingLayout.alignUp(slotBase[q] + (long)depth * (HEADER_STRIDE + STATUS_STRIDE), 4096) +
            (long)slot * blockSize;
    }

    /** Whether the device is read-only (VIRTIO_BLK_F_RO acked). */
    boolean readOnly()
    {
        return (features & (1L << VIRTIO_BLK_F_RO)) != 0;
    }

    /** QEMU's vhost_dev_stop: disable and GET_VRING_BASE each ring; returns each ring's last avail index. */
    int[] stop() throws IOException
    {
        final int[] bases = new int[queues];
        if (!started)
        {
            return bases;
        }
        started = false;
        for (int q = 0; q < queues; q++)
        {
            if ((features & (1L << F_PROTOCOL_FEATURES)) != 0)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, VhostUserFrontEnd.state(q, 0));
            }
        }
        for (int q = 0; q < queues; q++)
        {
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, VhostUserFrontEnd.state(q, 0));
            final UnsafeBuffer base = fe.reply(VhostUserRequest.GET_VRING_BASE);
            if (base == null)
            {
                throw new IOException("no GET_VRING_BASE reply for ring " + q);
            }
            bases[q] = base.getInt(HEADER_LENGTH + STATE_NUM_OFFSET, LITTLE_ENDIAN);
        }
        return bases;
    }

    public void close() throws IOException
    {
        try
        {
            fe.close();
        }
        finally
        {
            for (int q = 0; q < queues; q++)
            {
                if (kicks[q] >= 0)
                {
                    Libc.close(kicks[q]);
                }
                if (calls[q] >= 0)
                {
                    Libc.close(calls[q]);
                }
            }
        }
    }
}
