package dev.braid.cards.nbd;

/** What NBD_OPT_GO told about the export: size, transmission flags, size constraints. */
record NbdExport(
    long sizeBytes,
    int transmissionFlags,
    int minimumBlock,
    int preferredBlock,
    int maximumPayload,
    boolean structuredReplies)
{
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
