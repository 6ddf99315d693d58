package dev.braid.perf.nativecards;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import com.sun.jna.Native;

import dev.braid.cards.tap.TapCardContext;
import dev.braid.cards.tap.TapNetCard;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;

/**
 * TAP frames per second and CPU per frame: {@link TapNetCard} against a plain {@code write}/
 * {@code read} loop on raw {@code /dev/net/tun} fds. The benchmark makes a bridge with two TAPs
 * (deleted after); one thread writes 60-byte frames (plus the 12-byte vnet header) into TAP A, the
 * bridge floods them to TAP B, and the same thread reads them there, keeping {@code window} frames
 * in flight. Card: a tx card on A ({@code transmit}, {@code poll}) and an rx card on B
 * ({@code receive} into guest memory); plain: the same through raw fds with the same flags
 * (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_MULTI_QUEUE, non-blocking). CPU per frame is the thread's
 * CPU time (user + system, so the kernel's bridge work in the syscalls too) over frames received.
 *
 * <p>Usage: {@code TapFrames [seconds=3] [rounds=5] [window=64]}
 */
public final class TapFrames
{
    private static final int HDR = 12;
    private static final int FRAME = 60;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final long TUNSETIFF = 0x400454caL;
    private static final long TUNSETVNETHDRSZ = 0x400454d8L;
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 0x800;

    static
    {
        Native.register(TapFrames.class, "c");
    }

    private static native int open(String path, int flags);

    private static native int close(int fd);

    private static native int ioctl(int fd, long request, long arg);

    private static native long write(int fd, long buffer, long count);

    private static native long read(int fd, long buffer, long count);

    private TapFrames()
    {
    }

    record Result(double framesPerSecond, double cpuNanosPerFrame, long lost)
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int seconds = Integer.parseInt(args.length > 0 ? args[0] : "3");
        final int rounds = Integer.parseInt(args.length > 1 ? args[1] : "5");
        final int window = Integer.parseInt(args.length > 2 ? args[2] : "64");
        final String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
        final String bridge = "bpb" + suffix;
        final String tapA = "bpa" + suffix;
        final String tapB = "bpz" + suffix;
        final Runnable cleanUp = () ->
        {
            quietly("ip", "link", "del", tapA);
            quietly("ip", "link", "del", tapB);
            quietly("ip", "link", "del", bridge);
        };
        Runtime.getRuntime().addShutdownHook(new Thread(cleanUp));
        try
        {
            ip("link", "add", bridge, "type", "bridge", "forward_delay", "0", "mcast_snooping", "0");
            sysctl("net.ipv6.conf." + bridge + ".disable_ipv6", "1");
            ip("link", "set", bridge, "multicast", "off", "up");
            for (final String tap : List.of(tapA, tapB))
            {
                ip("tuntap", "add", "dev", tap, "mode", "tap", "multi_queue", "vnet_hdr");
                sysctl("net.ipv6.conf." + tap + ".disable_ipv6", "1");
                ip("link", "set", tap, "master", bridge, "multicast", "off", "up");
            }
            System.out.printf("TapFrames: bridge %s, %s -> %s, %d-byte frames + %d-byte vnet header, window %d, %d s x %d rounds; nproc %d%n",
                bridge, tapA, tapB, FRAME, HDR, window, seconds, rounds, Runtime.getRuntime().availableProcessors());
            final List<double[]> rows = new ArrayList<>();
            for (int round = 0; round < rounds; round++)
            {
                final Result card = card(tapA, tapB, bridge, seconds, window, round == 0);
                final Result plain = plain(tapA, tapB, bridge, seconds, window, round == 0);
                rows.add(new double[] {card.framesPerSecond, plain.framesPerSecond, card.framesPerSecond / plain.framesPerSecond,
                    card.cpuNanosPerFrame, plain.cpuNanosPerFrame, card.cpuNanosPerFrame / plain.cpuNanosPerFrame});
                System.out.printf("round %d: card %.0f frames/s, %.0f ns CPU/frame (lost %d) | plain %.0f frames/s, %.0f ns CPU/frame (lost %d) | rate ratio %.3f, CPU ratio (card/plain) %.3f  [load %s]%n",
                    round, card.framesPerSecond, card.cpuNanosPerFrame, card.lost, plain.framesPerSecond,
                    plain.cpuNanosPerFrame, plain.lost, card.framesPerSecond / plain.framesPerSecond,
                    card.cpuNanosPerFrame / plain.cpuNanosPerFrame, FileVsFio.load());
            }
            System.out.printf("median: card %.0f frames/s %.0f ns/frame | plain %.0f frames/s %.0f ns/frame | rate ratio %.3f | CPU ratio (card/plain) %.3f%n",
                FileVsFio.median(rows, 0), FileVsFio.median(rows, 3), FileVsFio.median(rows, 1), FileVsFio.median(rows, 4),
                FileVsFio.median(rows, 2), FileVsFio.median(rows, 5));
        }
        finally
        {
            cleanUp.run();
        }
    }

    /** One frame: a locally administered unknown unicast destination, so the bridge floods it to B. */
    private static void frame(final GuestMemory memory, final long gpa)
    {
        memory.setMemory(gpa, HDR + FRAME, (byte)0);
        final byte[] eth = {0x02, 0x42, 0x52, 0x41, 0x49, 0x44, 0x02, 0x42, 0x52, 0x41, 0x49, 0x45, (byte)0x88, (byte)0xb5};
        memory.putBytes(gpa + HDR, eth, 0, eth.length);
    }

    static Result card(final String tapA, final String tapB, final String bridge, final int seconds, final int window,
        final boolean warm) throws Exception
    {
        final GuestMemory memory = GuestMemory.allocate(1 << 20);
        frame(memory, 0);
        final NetFrame tx = new NetFrame(1);
        tx.data().reset(memory);
        tx.data().add(0, HDR + FRAME);
        tx.headerSkip(HDR);
        final NetFrame rx = new NetFrame(1);
        rx.data().reset(memory);
        rx.data().add(0x10000, HDR + 1514);
        rx.headerSkip(HDR);
        final long[] txDone = new long[2];
        final CompletionSink sink = (token, status, length) ->
        {
            txDone[status == 0 ? 0 : 1]++;
            return true;
        };
        try (TapNetCard a = new TapNetCard(new TapCardContext().spec("tap:" + tapA).queueCount(1).queueDepth(window));
            TapNetCard b = new TapNetCard(new TapCardContext().spec("tap:" + tapB).queueCount(1)))
        {
            awaitForwarding(tapA);
            awaitForwarding(tapB);
            final Loop loop = new Loop()
            {
                @Override
                boolean send()
                {
                    return a.transmit(0, tx, 0, sink);
                }

                @Override
                void reap()
                {
                    a.poll(0);
                }

                @Override
                boolean receive()
                {
                    return b.receive(0, rx) > 0;
                }
            };
            if (warm)
            {
                loop.run(TimeUnit.SECONDS.toNanos(2), window);
            }
            return loop.run(TimeUnit.SECONDS.toNanos(seconds), window);
        }
    }

    static Result plain(final String tapA, final String tapB, final String bridge, final int seconds, final int window,
        final boolean warm) throws Exception
    {
        final int a = attach(tapA);
        final int b = attach(tapB);
        try
        {
            awaitForwarding(tapA);
            awaitForwarding(tapB);
            final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
            final UnsafeBuffer in = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
            final byte[] eth = {0x02, 0x42, 0x52, 0x41, 0x49, 0x44, 0x02, 0x42, 0x52, 0x41, 0x49, 0x45, (byte)0x88, (byte)0xb5};
            out.putBytes(HDR, eth);
            final long outAddress = out.addressOffset();
            final long inAddress = in.addressOffset();
            final Loop loop = new Loop()
            {
                @Override
                boolean send()
                {
                    return write(a, outAddress, HDR + FRAME) == HDR + FRAME;
                }

                @Override
                void reap()
                {
                }

                @Override
                boolean receive()
                {
                    return read(b, inAddress, HDR + 1514 + 1) > 0;
                }
            };
            if (warm)
            {
                loop.run(TimeUnit.SECONDS.toNanos(2), window);
            }
            return loop.run(TimeUnit.SECONDS.toNanos(seconds), window);
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    /** One thread: keep {@code window} frames in flight from A to B; a frame not seen for 50 ms counts lost. */
    abstract static class Loop
    {
        abstract boolean send();

        abstract void reap();

        abstract boolean receive();

        Result run(final long nanos, final int window)
        {
            final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
            long sent = 0;
            long received = 0;
            long lost = 0;
            long lastProgress = System.nanoTime();
            final long cpu0 = threads.getCurrentThreadCpuTime();
            final long start = System.nanoTime();
            final long end = start + nanos;
            long now = start;
            while (now < end)
            {
                while (sent - received - lost < window && send())
                {
                    sent++;
                }
                reap();
                boolean progress = false;
                for (int i = 0; i < window && receive(); i++)
                {
                    received++;
                    progress = true;
                }
                now = System.nanoTime();
                if (progress)
                {
                    lastProgress = now;
                }
                else if (now - lastProgress > 50_000_000L)
                {
                    lost = sent - received;
                    lastProgress = now;
                }
            }
            final long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            final double elapsed = (System.nanoTime() - start) / 1e9;
            return new Result(received / elapsed, cpu / (double)Math.max(1, received), lost);
        }
    }

    private static int attach(final String ifname)
    {
        final int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
        if (fd < 0)
        {
            throw new IllegalStateException("open /dev/net/tun: errno " + Native.getLastError());
        }
        final UnsafeBuffer ifreq = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 8));
        ifreq.putBytes(0, ifname.getBytes(StandardCharsets.US_ASCII));
        ifreq.putShort(16, (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE));
        if (ioctl(fd, TUNSETIFF, ifreq.addressOffset()) < 0)
        {
            throw new IllegalStateException("TUNSETIFF " + ifname + ": errno " + Native.getLastError());
        }
        ifreq.putInt(0, HDR);
        if (ioctl(fd, TUNSETVNETHDRSZ, ifreq.addressOffset()) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0)
        {
            throw new IllegalStateException("TUNSETVNETHDRSZ/TUNSETOFFLOAD " + ifname + ": errno " + Native.getLastError());
        }
        return fd;
    }

    private static void awaitForwarding(final String ifname) throws IOException, InterruptedException
    {
        final Path state = Path.of("/sys/class/net", ifname, "brport", "state");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(Files.exists(state) && Files.readString(state).trim().equals("3")))
        {
            if (System.nanoTime() > deadline)
            {
                throw new IllegalStateException(ifname + " never forwarding in its bridge");
            }
            Thread.sleep(5);
        }
    }

    private static void ip(final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0)
        {
            throw new IOException(String.join(" ", command) + ": " + out.strip());
        }
    }

    private static void sysctl(final String key, final String value)
    {
        quietly("sysctl", "-qw", key + "=" + value);
    }

    private static void quietly(final String... command)
    {
        try
        {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
        catch (final IOException | InterruptedException ignored)
        {
            // Best effort.
        }
    }
}
