package dev.braid.mapper;

/**
 * How guest queues use cards: the one notion that both the map policy (how many routes a guest
 * queue gets) and the front queue's dispatch (which route a request takes) follow.
 */
public enum DispatchMode
{
    /** One route per guest queue; the card sees a guest queue's requests in guest order. */
    QUEUE_AFFINE,
    /** A route on every usable card per guest queue; a selector sprays requests over them. */
    REQUEST_SPRAY
}
