package dev.braid.virtio.card;

/** Health signals a card raises on its own, beside completions. Called from any thread. */
public interface CardEventListener
{
    /** The card's link or path went up or down. */
    void onLinkChange(Card card, boolean up);

    /** The card hit an error not tied to one request (a controller reset, a lost path). */
    void onCardError(Card card, int code);
}
