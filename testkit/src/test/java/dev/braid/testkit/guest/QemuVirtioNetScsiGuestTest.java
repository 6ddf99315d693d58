package dev.braid.testkit.guest;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the harness on QEMU's own virtio-net and virtio-scsi (no Braid): the guest's drivers probe
 * (eth0 with the MAC QEMU gave it; a scsi-hd that becomes /dev/sda with the right size). Booted
 * through SeaBIOS, so the firmware and the NIC's option ROM the peer script installs are exercised.
 */
@ExtendWith(NoQemuLeftBehind.class)
class QemuVirtioNetScsiGuestTest
{
    private static final String MAC = "52:54:00:b4:a1:d0";
    private static final int DISK_MIB = 8;

    @TempDir
    Path dir;

    @Test
    void virtioNetAndVirtioScsiDriversProbe() throws Exception
    {
        final Path disk = dir.resolve("scsi.raw");
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            ch.write(ByteBuffer.wrap("braid-scsi-label".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
            ch.write(ByteBuffer.wrap(new byte[] {0}), (DISK_MIB << 20) - 1);
        }
        final Path note = dir.resolve("note.txt");
        Files.writeString(note, "shipped from the host\n");
        final String script = String.join("\n",
            "braid_wait /sys/class/net/eth0 && braid_result eth0 present",
            "braid_result eth0-mac $(cat /sys/class/net/eth0/address)",
            "braid_result eth0-driver $(basename $(readlink /sys/class/net/eth0/device/driver))",
            "braid_wait /dev/sda && braid_result sda present",
            "braid_result sda-size512 $(cat /sys/block/sda/size)",
            "braid_result sda-label $(dd if=/dev/sda bs=512 count=1 2>/dev/null | head -c 16)",
            "braid_result shipped \"$(cat /opt/braid/note.txt)\" ",
            "");
        final GuestResult result = GuestRun.builder()
            .name("qemu-virtio-net-scsi")
            .firmware(Firmware.SEABIOS)
            .qemuArgs(
                "-netdev", "user,id=n0",
                "-device", "virtio-net-pci,netdev=n0,mac=" + MAC,
                "-device", "virtio-scsi-pci,id=scsi0,num_queues=1",
                "-drive", "file=" + disk + ",if=none,id=sd0,format=raw",
                "-device", "scsi-hd,drive=sd0,bus=scsi0.0,channel=0,scsi-id=0,lun=0")
            .file("/opt/braid/note.txt", note, 0644)
            .script(script)
            .run()
            .assertSucceeded();

        assertEquals("present", result.result("eth0"));
        assertEquals(MAC, result.result("eth0-mac"));
        assertEquals("virtio_net", result.result("eth0-driver"));
        assertEquals("present", result.result("sda"));
        assertEquals(Long.toString((long)DISK_MIB << 11), result.result("sda-size512"));
        assertEquals("braid-scsi-label", result.result("sda-label"));
        assertEquals("shipped from the host", result.result("shipped"), "GuestRun.file() reached the guest");
        assertTrue(result.doneAfterNanos() > result.bootedAfterNanos(), "BRAID-DONE after BRAID-BOOTED");
    }
}
