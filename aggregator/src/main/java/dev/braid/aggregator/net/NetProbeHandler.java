package dev.braid.aggregator.net;

import dev.braid.aggregator.ControlHandler;
import dev.braid.aggregator.ProbeSink;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;

/**
 * Probes a NIC that is coming back through its data path: the probe transmits one minimum-size
 * loopback frame on the card queue, and succeeds only when the card sends it and completes it OK.
 * A NIC whose link is up but whose tx path is hung never completes it, so the probe times out; one
 * whose link is down fails at once. The frame lives in Braid's own bounce memory, never the guest's.
 *
 * <p>The frame is an Ethernet Configuration Testing Protocol (loopback, ethertype 0x9000) frame
 * whose source and destination are both a locally administered probe address per card
 * ({@code 02:42:52:44:50:<card>}), so no host takes it for itself and a learning switch, which has
 * just learned that address on the sending port, does not forward it anywhere. It never uses the
 * device's MAC: a frame from that address would steer the peer's traffic to a card not yet in the
 * map. Slot = card index.
 */
public final class NetProbeHandler implements ControlHandler<NetCard>
{
    /** Minimum Ethernet frame without the FCS. */
    public static final int PROBE_FRAME_LENGTH = 60;
    /** Ethernet Configuration Testing Protocol (loopback). */
    public static final int PROBE_ETHERTYPE = 0x9000;
    private static final int MAX_CARDS = 64;

    private final NetFrame[] frames;
    private final ProbeSink[] sinks;

    /** Probes for up to 64 cards (the most an aggregated device has). */
    public NetProbeHandler()
    {
        this(MAX_CARDS);
    }

    public NetProbeHandler(final int maxCards)
    {
        if (maxCards < 1 || maxCards > 256)
        {
            throw new IllegalArgumentException("maxCards must be 1..256: " + maxCards);
        }
        final GuestMemory bounce = GuestMemory.allocate((long)maxCards * PROBE_FRAME_LENGTH);
        frames = new NetFrame[maxCards];
        sinks = new ProbeSink[maxCards];
        for (int card = 0; card < maxCards; card++)
        {
            final long gpa = (long)card * PROBE_FRAME_LENGTH;
            final long mac = probeMac(card);
            for (int i = 0; i < 6; i++)
            {
                final byte b = (byte)(mac >>> (40 - 8 * i));
                bounce.putByte(gpa + i, b); // destination
                bounce.putByte(gpa + 6 + i, b); // source
            }
            bounce.putByte(gpa + 12, (byte)(PROBE_ETHERTYPE >>> 8));
            bounce.putByte(gpa + 13, (byte)PROBE_ETHERTYPE);
            // Loopback payload: skip count 0, then a reply message (function 1) with receipt number = card.
            bounce.putByte(gpa + 16, (byte)1);
            bounce.putByte(gpa + 18, (byte)card);
            final NetFrame frame = new NetFrame(1);
            frame.data().reset(bounce);
            frame.data().add(gpa, PROBE_FRAME_LENGTH);
            frame.headerSkip(0);
            frames[card] = frame;
            // Passes when the card sent the frame.
            sinks[card] = new ProbeSink(status -> status == CardStatus.OK);
        }
    }

    /** The probe address of {@code card}: locally administered unicast 02:42:52:44:50:card. */
    public static long probeMac(final int card)
    {
        return 0x0242_5244_5000L | (card & 0xFF);
    }

    public boolean submit(final NetCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        if (!card.isLinkUp())
        {
            // False when the completion ring is full: the worker keeps the probe and tries again.
            return sink.complete(token, CardStatus.IO_ERROR, 0);
        }
        // False when the card queue is full or refuses work: the worker retries until the probe
        // is sent, cancelled by a fence, or times out in the control plane.
        return card.transmit(cardQueue, frames[slot], token, sinks[slot].to(sink));
    }
}
