package dev.braid.ha;

/** How active-active gives guest queues to cards. */
public enum DispatchShape
{
    /** One route per guest queue; guest queues spread evenly over cards. Keeps per-queue order. */
    QUEUE_AFFINE,
    /** One route per usable card on every guest queue; a selector sprays requests (blk, scsi). */
    REQUEST_SPRAY
}
