package dev.braid.testkit.guest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The QEMU command line and the builder's validation, without running QEMU. */
class GuestRunTest
{
    private static final GuestKernel KERNEL = new GuestKernel(Path.of("/k/vmlinux"), Path.of("/k/lib/modules/6.1.0"));

    private static List<String> command(final GuestRun run)
    {
        return run.conclude().command(Path.of("/usr/bin/qemu-system-x86_64"), KERNEL, Path.of("/t/initramfs.cpio.gz"));
    }

    private static void assertAdjacent(final List<String> cmd, final String option, final String value)
    {
        for (int i = 0; i + 1 < cmd.size(); i++)
        {
            if (cmd.get(i).equals(option) && cmd.get(i + 1).equals(value))
            {
                return;
            }
        }
        throw new AssertionError(option + " " + value + " not in " + cmd);
    }

    @Test
    void guestMemoryIsASharedMemfdAndTheRunCannotReboot()
    {
        final List<String> cmd = command(GuestRun.builder().name("t").script("true").memoryMiB(768)
            .accelerator(Accelerator.TCG));
        assertAdjacent(cmd, "-object", "memory-backend-memfd,id=mem,size=768M,share=on");
        assertAdjacent(cmd, "-machine", "q35,accel=tcg,memory-backend=mem");
        assertAdjacent(cmd, "-m", "768M");
        assertAdjacent(cmd, "-bios", "/usr/share/qemu/qboot.rom");
        assertAdjacent(cmd, "-kernel", "/k/vmlinux");
        assertTrue(cmd.contains("-no-reboot"));
        assertFalse(cmd.contains("-cpu"), "TCG keeps QEMU's default CPU model");
    }

    @Test
    void kvmUsesTheHostCpuAndSeabiosIsQemusDefault()
    {
        final List<String> cmd = command(GuestRun.builder().name("t").script("true")
            .accelerator(Accelerator.KVM).firmware(Firmware.SEABIOS));
        assertAdjacent(cmd, "-machine", "q35,accel=kvm,memory-backend=mem");
        assertAdjacent(cmd, "-cpu", "host");
        assertFalse(cmd.contains("-bios"));
    }

    @Test
    void vhostUserDevicesGetTheirOwnChardevsBeforeTheCallersArgs()
    {
        final List<String> cmd = command(GuestRun.builder().name("t").script("true").accelerator(Accelerator.TCG)
            .vhostUserBlk(Path.of("/s/blk.sock"), 2)
            .vhostUserNet(Path.of("/s/net.sock"), 2)
            .vhostUserScsi(Path.of("/s/scsi.sock"), 1)
            .qemuArgs("-device", "virtio-rng-pci"));
        assertAdjacent(cmd, "-chardev", "socket,id=vu0,path=/s/blk.sock");
        assertAdjacent(cmd, "-device", "vhost-user-blk-pci,chardev=vu0,num-queues=2");
        assertAdjacent(cmd, "-chardev", "socket,id=vu1,path=/s/net.sock");
        assertAdjacent(cmd, "-netdev", "vhost-user,id=vu1-net,chardev=vu1,queues=2");
        assertAdjacent(cmd, "-device", "virtio-net-pci,netdev=vu1-net,mq=on,vectors=0");
        assertAdjacent(cmd, "-chardev", "socket,id=vu2,path=/s/scsi.sock");
        assertAdjacent(cmd, "-device", "vhost-user-scsi-pci,chardev=vu2,num_queues=1");
        assertEquals(List.of("-device", "virtio-rng-pci"), cmd.subList(cmd.size() - 2, cmd.size()));
    }

    @Test
    void inServerModeQemuListensOnEveryVhostUserSocket()
    {
        final List<String> cmd = command(GuestRun.builder().name("t").script("true").accelerator(Accelerator.KVM)
            .vhostUserScsi(Path.of("/s/scsi.sock"), 4).vhostUserNet(Path.of("/s/net.sock"), 1).vhostUserServer(true));
        assertAdjacent(cmd, "-chardev", "socket,id=vu0,path=/s/scsi.sock,server=on,wait=on");
        assertAdjacent(cmd, "-chardev", "socket,id=vu1,path=/s/net.sock,server=on,wait=on");
        assertAdjacent(cmd, "-device", "virtio-net-pci,netdev=vu1-net,mq=off");
    }

    @Test
    void vhostUserNetKeepsMsixUnderKvm()
    {
        assertEquals(List.of("-chardev", "socket,id=n,path=/s/n.sock", "-netdev", "vhost-user,id=n-net,chardev=n,queues=1",
                "-device", "virtio-net-pci,netdev=n-net,mq=off"),
            VhostUserArgs.net("n", Path.of("/s/n.sock"), 1, false));
    }

    @Test
    void badValuesAreNamed()
    {
        assertMessage("name must be", GuestRun.builder().name("a b").script("true"));
        assertMessage("name must be", GuestRun.builder().script("true"));
        assertMessage("has no script", GuestRun.builder().name("x"));
        assertMessage("memoryMiB must be 64..65536: 32", GuestRun.builder().name("x").script("true").memoryMiB(32));
        assertMessage("cpus must be 1..64: 0", GuestRun.builder().name("x").script("true").cpus(0));
        assertMessage("timeout must be positive: PT0S", GuestRun.builder().name("x").script("true").timeout(Duration.ZERO));
        assertEquals("vhost-user queues must be 1..1024: 0",
            assertThrows(IllegalArgumentException.class, () -> VhostUserArgs.blk("v", Path.of("/s"), 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> VhostUserArgs.scsi("v", Path.of("/s/a,b.sock"), 1)).getMessage().contains("must not contain ','"));
    }

    @Test
    void guestFilesMustBeAbsolutePlainPathsOutsideTheHarnesssOwn()
    {
        for (final String bad : List.of("opt/x", "/opt//x", "/opt/../x", "/opt/", "/init", "/guest.sh", "/bin/busybox", "/a b"))
        {
            assertThrows(IllegalArgumentException.class, () -> GuestRun.builder().file(bad, Path.of("/x"), 0644), bad);
        }
        GuestRun.builder().file("/usr/local/bin/fio", Path.of("/x"), 0755);
    }

    private static void assertMessage(final String expected, final GuestRun run)
    {
        final String message = assertThrows(IllegalArgumentException.class, run::conclude).getMessage();
        assertTrue(message.contains(expected), message);
    }
}
