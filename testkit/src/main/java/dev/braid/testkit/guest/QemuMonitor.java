package dev.braid.testkit.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * QEMU's human monitor (HMP) on a unix socket, asked what a stalled guest's rings look like from
 * QEMU's side before the run is killed: the vCPUs' states, and for each virtio device the guest's
 * indices (avail, used) and the vhost back end's. A ring whose avail index ran ahead of the back
 * end's last_avail was never popped; one the back end popped but did not mark used is held in the
 * back end; a used index the guest has not consumed is an interrupt the guest did not take.
 */
final class QemuMonitor
{
    private static final String PROMPT = "(qemu) ";
    private static final int MAX_QUEUES_ASKED = 16;

    private QemuMonitor()
    {
    }

    /** Whether a unix socket path this long can be bound (sun_path is 108 bytes with its NUL). */
    static boolean fits(final Path socket)
    {
        return socket.toString().getBytes(StandardCharsets.UTF_8).length < 100;
    }

    /** The dump: each command and its answer, or one line saying why there is none. Never throws. */
    static String dump(final Path socket, final long budgetMillis)
    {
        final StringBuilder out = new StringBuilder();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            Selector selector = Selector.open())
        {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            readToPrompt(channel, selector, deadline); // the banner
            out.append(ask(channel, selector, deadline, "info cpus"));
            final String devices = ask(channel, selector, deadline, "info virtio");
            out.append(devices);
            for (final String path : virtioPaths(devices))
            {
                out.append(ask(channel, selector, deadline, "info virtio-status " + path));
                for (int q = 0; q < MAX_QUEUES_ASKED; q++)
                {
                    final String ring = ask(channel, selector, deadline, "info virtio-queue-status " + path + " " + q);
                    if (ring.contains("Invalid virtqueue"))
                    {
                        break;
                    }
                    out.append(ring);
                    out.append(ask(channel, selector, deadline, "info virtio-vhost-queue-status " + path + " " + q));
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            out.append("(monitor: ").append(ex).append(")\n");
        }
        return out.toString();
    }

    /** The QOM paths "info virtio" lists, one a line: "/machine/peripheral-anon/device[0]/virtio-backend [vhost-user-blk]". */
    static List<String> virtioPaths(final String infoVirtio)
    {
        final List<String> paths = new ArrayList<>();
        for (final String line : infoVirtio.split("\n"))
        {
            final String trimmed = line.trim();
            if (trimmed.startsWith("/"))
            {
                paths.add(trimmed.split("\\s+")[0]);
            }
        }
        return paths;
    }

    private static String ask(final SocketChannel channel, final Selector selector, final long deadline, final String command)
        throws IOException
    {
        final ByteBuffer line = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
        while (line.hasRemaining())
        {
            channel.write(line);
        }
        // The monitor echoes the command as its line editor redraws it: drop that line, print it plain.
        final String answer = readToPrompt(channel, selector, deadline);
        final int echo = answer.indexOf('\n');
        return PROMPT + command + "\n" + (echo < 0 ? answer : answer.substring(echo + 1));
    }

    private static String readToPrompt(final SocketChannel channel, final Selector selector, final long deadline)
        throws IOException
    {
        final StringBuilder text = new StringBuilder();
        final ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (true)
        {
            final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0)
            {
                return text.append("(monitor: no prompt before the deadline)\n").toString();
            }
            selector.select(left);
            selector.selectedKeys().clear();
            buffer.clear();
            final int n = channel.read(buffer);
            if (n < 0)
            {
                return text.append("(monitor: closed)\n").toString();
            }
            text.append(printable(buffer.array(), n));
            final int at = text.lastIndexOf(PROMPT);
            if (at >= 0 && at + PROMPT.length() == text.length())
            {
                text.setLength(at);
                return text.toString();
            }
        }
    }

    /** HMP's readline writes terminal escapes; keep text, tabs and newlines. */
    private static String printable(final byte[] bytes, final int length)
    {
        final StringBuilder s = new StringBuilder(length);
        int i = 0;
        while (i < length)
        {
            final int b = bytes[i] & 0xFF;
            if (b == 0x1B)
            {
                // ESC [ params final-byte
                i++;
                if (i < length && bytes[i] == '[')
                {
                    i++;
                    while (i < length && (bytes[i] < 0x40 || bytes[i] > 0x7E))
                    {
                        i++;
                    }
                }
                i++;
                continue;
            }
            if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7F))
            {
                s.append((char)b);
            }
            i++;
        }
        return s.toString();
    }
}
