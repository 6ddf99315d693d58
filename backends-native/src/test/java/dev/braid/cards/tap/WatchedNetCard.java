package dev.braid.cards.tap;

import dev.braid.testkit.guest.GuestFrames;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.NetFrame;

import java.util.ArrayList;
import java.util.List;

/** A NetCard that passes everything to a TAP card and keeps a hex dump of each rx frame the guest would call malformed. */
final class WatchedNetCard implements NetCard
{
    private final TapNetCard card;
    private final long guestMac;
    private final int guestIp;
    private final long peerMac;
    private final int peerIp;
    private final byte[] frame = new byte[2048];
    final List<String> malformed = new ArrayList<>();

    WatchedNetCard(final TapNetCard card, final long guestMac, final int guestIp, final long peerMac, final int peerIp)
    {
        this.card = card;
        this.guestMac = guestMac;
        this.guestIp = guestIp;
        this.peerMac = peerMac;
        this.peerIp = peerIp;
    }

    public boolean transmit(final int queue, final NetFrame f, final long token, final CompletionSink sink)
    {
        return card.transmit(queue, f, token, sink);
    }

    public int receive(final int queue, final NetFrame buffer)
    {
        final int length = card.receive(queue, buffer);
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

    public void setMacAddress(final byte[] mac)
    {
        card.setMacAddress(mac);
    }

    public void setRxMode(final boolean promiscuous, final boolean allMulticast)
    {
        card.setRxMode(promiscuous, allMulticast);
    }

    public boolean announce(final byte[] mac, final int ipv4Address)
    {
        return card.announce(mac, ipv4Address);
    }

    public String name()
    {
        return card.name();
    }

    public int queueCount()
    {
        return card.queueCount();
    }

    public int queueDepth()
    {
        return card.queueDepth();
    }

    public int poll(final int queue)
    {
        return card.poll(queue);
    }

    public void fence()
    {
        card.fence();
    }

    public void unfence()
    {
        card.unfence();
    }

    public boolean isLinkUp()
    {
        return card.isLinkUp();
    }

    public void setEventListener(final CardEventListener listener)
    {
        card.setEventListener(listener);
    }
}
