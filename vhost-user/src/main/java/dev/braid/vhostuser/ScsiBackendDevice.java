package dev.braid.vhostuser;

import dev.braid.aggregator.scsi.ScsiControlQueue;
import dev.braid.aggregator.scsi.ScsiDevice;
import dev.braid.aggregator.scsi.VirtioScsiDevice;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-scsi behind vhost-user ({@code -device vhost-user-scsi-pci,num_queues=N}): QEMU hands over
 * every virtqueue, control (0), event (1) and request queues 2..N+1. Each start builds a
 * {@link VirtioScsiDevice} over the front end's memory and plays its transport
 * ({@link TransportBackendDevice}, as for blk); all the rings resume at the front end's indices,
 * and with one agent thread it sleeps on all their kick fds when idle (no TMF in progress either).
 *
 * <p>Features: the ring features of {@link VirtioScsiDevice}, and VIRTIO_SCSI_F_CHANGE. QEMU 7.2's
 * vhost-user-scsi masks HOTPLUG (and the ring bits) by what the back end offers, but not CHANGE:
 * its {@code param_change} property is on by default and the guest acks it, so a back end that did
 * not offer it would refuse the guest's features. CHANGE promises only that a change of LUN
 * parameters is reported by an event; a Braid LUN's parameters never change while it is served,
 * so there is never one to send, and the bit is taken off before the device sees the features.
 * No HOTPLUG, INOUT or T10_PI. GET_CONFIG, when a front end asks, serves the device's
 * virtio_scsi_config (QEMU 7.2 does not: it builds its own from its properties, and warns that the
 * back end offers the CONFIG protocol feature).
 *
 * <p>At stop the event ring reports as next avail index the first buffer the device holds unused,
 * so a restarted device pops the guest's event buffers again instead of losing them.
 */
public final class ScsiBackendDevice extends TransportBackendDevice<ScsiCard, VirtioScsiDevice>
{
    private static final int FIXED_QUEUES = ScsiDevice.FIRST_REQUEST_QUEUE;
    private static final int EVENT_RING = 1;
    private static final long CHANGE = 1L << VirtioScsi.VIRTIO_SCSI_F_CHANGE;

    /**
     * @param maxRequestQueues request queues offered (num_queues); the front end may use fewer.
     * @param agentThreads     threads the device's agents share while it runs.
     */
    public ScsiBackendDevice(final List<ScsiCard> cards, final int maxRequestQueues, final int maxQueueSize,
        final int agentThreads)
    {
        this(cards, maxRequestQueues, maxQueueSize, agentThreads, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
    }

    public ScsiBackendDevice(final List<ScsiCard> cards, final int maxRequestQueues, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation)
    {
        super(new BackendSettings<>("scsi", cards, maxRequestQueues, 254, "scsi request queues", maxQueueSize,
            agentThreads, aggregation), FIXED_QUEUES + maxRequestQueues, CHANGE);
    }

    /** Control, event and at least one request queue, or nothing to serve. */
    public int minRings()
    {
        return FIXED_QUEUES + 1;
    }

    long deviceFeatures(final long negotiated)
    {
        return negotiated & ~CHANGE;
    }

    VirtioScsiDevice newDevice(final GuestMemory memory, final int rings, final IntConsumer calls)
    {
        return new VirtioScsiDevice(configure(new VirtioScsiDevice.Context().requestQueues(rings - FIXED_QUEUES),
            memory, calls));
    }

    ActiveRings activeRings(final VirtioScsiDevice scsi)
    {
        final ScsiControlQueue control = scsi.controlQueue();
        return new ActiveRings(scsi, control.controlRing(), control.eventRing())
        {
            int inFlight()
            {
                return control.tmfsInProgress() + super.inFlight();
            }

            int held(final int q)
            {
                return q == EVENT_RING ? control.heldEvents() : 0;
            }
        };
    }
}
