package dev.braid.cards.nbd;

/** What NBD_OPT_GO told about the export: size, transmission flags, size constraints. Immutable. */
final class NbdExport
{
    final long sizeBytes;
    final int transmissionFlags;
    final int minimumBlock;
    final int preferredBlock;
    final int maximumPayload;
    final boolean structuredReplies;

    NbdExport(
        final long sizeBytes,
        final int transmissionFlags,
        final int minimumBlock,
        final int preferredBlock,
        final int maximumPayload,
        final boolean structuredReplies)
    {
        this.sizeBytes = sizeBytes;
        this.transmissionFlags = transmissionFlags;
        this.minimumBlock = minimumBlock;
        this.preferredBlock = preferredBlock;
        this.maximumPayload = maximumPayload;
        this.structuredReplies = structuredReplies;
    }

    boolean has(final int transmissionFlag)
    {
        return (transmissionFlags & transmissionFlag) != 0;
    }

    public String toString()
    {
        return "size=" + sizeBytes + " flags=0x" + Integer.toHexString(transmissionFlags) +
            " block=" + minimumBlock + "/" + preferredBlock + "/" + maximumPayload +
            (structuredReplies ? " structured" : " simple");
    }
}
