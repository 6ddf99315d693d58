package dev.braid.cards.tap;

import dev.braid.testkit.guest.GuestFrames;
import dev.braid.virtio.card.ForwardingNetCard;
import dev.braid.virtio.card.NetFrame;

import java.util.ArrayList;
import java.util.List;

/** A NetCard that passes everything to a TAP card and keeps a hex dump of each rx frame the guest would call malformed. */
final class WatchedNetCard extends ForwardingNetCard
{
    private final long guestMac;
    private final int guestIp;
    private final long peerMac;
    private final int peerIp;
    private final byte[] frame = new byte[2048];
    final List<String> malformed = new ArrayList<>();

    WatchedNetCard(final TapNetCard card, final long guestMac, final int guestIp, final long peerMac, final int peerIp)
    {
        super(card);
        this.guestMac = guestMac;
        this.guestIp = guestIp;
        this.peerMac = peerMac;
        this.peerIp = peerIp;
    }

    public int receive(final int queue, final NetFrame buffer)
    {
        final int length = super.receive(queue, buffer);
        if (length > 0)
        {
            final int n = buffer.data().copyOut(buffer.headerSkip(), frame, 0, Math.min(length, frame.length));
            if (GuestFrames.parseReply(frame, n, guestMac, guestIp, peerMac, peerIp) == GuestFrames.MALFORMED)
            {
                final StringBuilder hex = new StringBuilder(card.name()).append(" len=").append(length).append(':');
                for (int i = 0; i < Math.min(n, 64); i++)
                {
                    hex.append(String.format(" %02x", frame[i]));
                }
                synchronized (malformed)
                {
                    malformed.add(hex.toString());
                }
            }
        }
        return length;
    }
}
