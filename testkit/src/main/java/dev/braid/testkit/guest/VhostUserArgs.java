package dev.braid.testkit.guest;

import java.nio.file.Path;
import java.util.List;

/**
 * QEMU arguments that attach a vhost-user device to a backend listening on a UNIX socket (QEMU is
 * the client and connects at startup; QEMU realizes the device before the guest runs, so a backend
 * that accepts and never answers hangs QEMU: every {@link GuestRun} has a hard timeout). Guest
 * memory is already a shared memfd in every run ({@link GuestRun}), which vhost-user needs.
 * {@code id} makes the chardev/netdev ids unique when one guest has several devices. With
 * {@code server}, QEMU listens on the socket instead and waits for the backend to connect
 * ({@code braid serve --client}) before it starts the guest.
 */
public final class VhostUserArgs
{
    private VhostUserArgs()
    {
    }

    /** {@code -chardev socket,id=ID,path=SOCK -device vhost-user-blk-pci,chardev=ID,num-queues=N}. */
    public static List<String> blk(final String id, final Path socket, final int queues)
    {
        return blk(id, socket, queues, false);
    }

    public static List<String> blk(final String id, final Path socket, final int queues, final boolean server)
    {
        return List.of(
            "-chardev", chardev(id, socket, server),
            "-device", "vhost-user-blk-pci,chardev=" + id + ",num-queues=" + checkQueues(queues));
    }

    /**
     * {@code -netdev vhost-user,id=ID-net,chardev=ID,queues=N -device virtio-net-pci,netdev=ID-net,mq=on}.
     * {@code noMsix} adds {@code vectors=0}: issue 9 measured that QEMU 7.2 under TCG segfaults when
     * a vhost-user virtio-net-pci with MSI-X starts.
     */
    public static List<String> net(final String id, final Path socket, final int queues, final boolean noMsix)
    {
        return net(id, socket, queues, noMsix, false);
    }

    public static List<String> net(
        final String id, final Path socket, final int queues, final boolean noMsix, final boolean server)
    {
        return List.of(
            "-chardev", chardev(id, socket, server),
            "-netdev", "vhost-user,id=" + id + "-net,chardev=" + id + ",queues=" + checkQueues(queues),
            "-device", "virtio-net-pci,netdev=" + id + "-net,mq=" + (queues > 1 ? "on" : "off") +
                (noMsix ? ",vectors=0" : ""));
    }

    /** {@code -chardev socket,id=ID,path=SOCK -device vhost-user-scsi-pci,chardev=ID,num_queues=N}. */
    public static List<String> scsi(final String id, final Path socket, final int queues)
    {
        return scsi(id, socket, queues, false);
    }

    public static List<String> scsi(final String id, final Path socket, final int queues, final boolean server)
    {
        return List.of(
            "-chardev", chardev(id, socket, server),
            "-device", "vhost-user-scsi-pci,chardev=" + id + ",num_queues=" + checkQueues(queues));
    }

    private static String chardev(final String id, final Path socket, final boolean server)
    {
        final String path = socket.toAbsolutePath().toString();
        if (path.indexOf(',') >= 0)
        {
            // QEMU option syntax would split the path at the comma.
            throw new IllegalArgumentException("vhost-user socket path must not contain ',': " + path);
        }
        return "socket,id=" + id + ",path=" + path + (server ? ",server=on,wait=on" : "");
    }

    private static int checkQueues(final int queues)
    {
        if (queues < 1 || queues > 1024)
        {
            throw new IllegalArgumentException("vhost-user queues must be 1..1024: " + queues);
        }
        return queues;
    }
}
