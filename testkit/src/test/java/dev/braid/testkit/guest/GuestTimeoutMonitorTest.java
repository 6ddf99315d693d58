package dev.braid.testkit.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run that times out asks QEMU's monitor what its vCPUs and virtio rings look like before it is
 * killed, and keeps the answer in the console log: the evidence a stalled guest leaves behind.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestTimeoutMonitorTest
{
    @Test
    void aTimedOutRunKeepsQemusViewOfItsRings(@TempDir final Path dir) throws Exception
    {
        final Path disk = dir.resolve("disk.img");
        try (RandomAccessFile raf = new RandomAccessFile(disk.toFile(), "rw"))
        {
            raf.setLength(1 << 20);
        }
        final GuestResult result = GuestRun.builder().name("guest-timeout-monitor").timeout(Duration.ofSeconds(40))
            .qemuArgs("-drive", "file=" + disk + ",if=none,id=d,format=raw",
                "-device", "virtio-blk-pci,drive=d,num-queues=1")
            .script("sleep 600\n").run();

        assertTrue(result.timedOut(), "the script outlives the run");
        final String log = Files.readString(result.consoleLog(), java.nio.charset.StandardCharsets.ISO_8859_1);
        final String dump = log.substring(log.indexOf("### timed out; QEMU's monitor said:"));
        assertTrue(dump.contains("CPU #0"), "info cpus answered: " + dump);
        final String devices = dump.substring(dump.indexOf("(qemu) info virtio\n") + 1);
        final List<String> paths = QemuMonitor.virtioPaths(devices.substring(0, devices.indexOf("(qemu)")));
        assertEquals(1, paths.size(), "info virtio listed the one device: " + dump);
        assertTrue(dump.contains("info virtio-queue-status " + paths.get(0) + " 0"), dump);
        assertTrue(dump.contains("used_idx") && dump.contains("last_avail_idx"), "the guest ring's indices: " + dump);
        assertTrue(!dump.contains("virtio-backend 1\n"), "only the queues the device has: " + dump);
    }
}
