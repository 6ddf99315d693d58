package dev.braid.cards.nbd;

import io.netty.buffer.ByteBuf;
import org.agrona.concurrent.UnsafeBuffer;

/** Views of Netty buffers as Agrona buffers, so guest memory copies go straight to and from them. */
final class NbdBuffers
{
    private NbdBuffers()
    {
    }

    /** Points {@code view} at {@code [index, index + length)} of {@code buf}: no copy, no allocation for direct or heap buffers. */
    static void wrap(final UnsafeBuffer view, final ByteBuf buf, final int index, final int length)
    {
        if (buf.hasMemoryAddress())
        {
            view.wrap(buf.memoryAddress() + index, length);
        }
        else if (buf.hasArray())
        {
            view.wrap(buf.array(), buf.arrayOffset() + index, length);
        }
        else
        {
            // A composite or an Unsafe-less direct buffer: one NIO view, allocated.
            view.wrap(buf.nioBuffer(index, length));
        }
    }
}
