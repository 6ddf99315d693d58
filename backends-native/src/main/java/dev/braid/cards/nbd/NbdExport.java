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

    /**
     * Why this export cannot stand in for {@code promised} (the one the card first served, whose size,
     * limits and commands the guest's device was built on), or null when it can: the same size, no
     * narrower limits, no command taken away, not newly read-only, and no volatile cache that the
     * card would skip flushing (it completes flushes itself for a server without NBD_FLAG_SEND_FLUSH).
     *
     * @param fua whether the card sends FUA writes (it then relies on NBD_FLAG_SEND_FUA).
     */
    String cannotReplace(final NbdExport promised, final boolean fua)
    {
        if (sizeBytes != promised.sizeBytes)
        {
            return "export size changed from " + promised.sizeBytes + " to " + sizeBytes + " bytes (a different disk?)";
        }
        if (has(NbdProtocol.TFLAG_READ_ONLY) && !promised.has(NbdProtocol.TFLAG_READ_ONLY))
        {
            return "export is read-only now, it was writable";
        }
        if (maximumPayload < promised.maximumPayload)
        {
            return "maximum payload shrank from " + promised.maximumPayload + " to " + maximumPayload + " bytes";
        }
        if (minimumBlock > promised.minimumBlock)
        {
            return "minimum block grew from " + promised.minimumBlock + " to " + minimumBlock + " bytes";
        }
        if (has(NbdProtocol.TFLAG_SEND_FLUSH) && !promised.has(NbdProtocol.TFLAG_SEND_FLUSH))
        {
            return "server now has a write cache (NBD_FLAG_SEND_FLUSH) it did not have: the guest's flushes would not reach it";
        }
        final String lostFlush = lost(promised, NbdProtocol.TFLAG_SEND_FLUSH, "NBD_FLAG_SEND_FLUSH (the card would still send flushes)");
        if (lostFlush != null)
        {
            return lostFlush;
        }
        final String lost = lost(promised, NbdProtocol.TFLAG_SEND_TRIM, "NBD_FLAG_SEND_TRIM");
        if (lost != null)
        {
            return lost;
        }
        final String lostZeroes = lost(promised, NbdProtocol.TFLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
        if (lostZeroes != null || !fua)
        {
            return lostZeroes;
        }
        return lost(promised, NbdProtocol.TFLAG_SEND_FUA, "NBD_FLAG_SEND_FUA");
    }

    private String lost(final NbdExport promised, final int flag, final String name)
    {
        return promised.has(flag) && !has(flag) ? "server no longer sets " + name : null;
    }

    public String toString()
    {
        return "size=" + sizeBytes + " flags=0x" + Integer.toHexString(transmissionFlags) +
            " block=" + minimumBlock + "/" + preferredBlock + "/" + maximumPayload +
            (structuredReplies ? " structured" : " simple");
    }
}
