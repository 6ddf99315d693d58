package dev.braid.examples.soak;

/** A bad option value; the message is one line, ready to print after "braid: ". */
public final class UsageException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public UsageException(final String message)
    {
        super(message);
    }
}
