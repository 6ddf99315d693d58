package dev.braid.virtio.card;

/** A NIC card that hands every call to the card it wraps; decorators override the calls they watch. */
public class ForwardingNetCard extends ForwardingCard<NetCard> implements NetCard
{
    public ForwardingNetCard(final NetCard card)
    {
        super(card);
    }

    public boolean transmit(final int queue, final NetFrame frame, final long token, final CompletionSink sink)
    {
        return card.transmit(queue, frame, token, sink);
    }

    public int receive(final int queue, final NetFrame buffer)
    {
        return card.receive(queue, buffer);
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
}
