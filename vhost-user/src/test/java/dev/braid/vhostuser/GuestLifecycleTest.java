package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.testkit.guest.RunningGuest;
import dev.braid.virtio.card.BlockCard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.braid.vhostuser.GuestPattern.PATTERN_BYTES;
import static dev.braid.vhostuser.GuestPattern.makePattern;
import static dev.braid.vhostuser.GuestPattern.md5;
import static dev.braid.vhostuser.GuestPattern.pattern;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The device's life across what a real guest and VMM do to it, on one backend and server: the
 * guest reboots ({@code reboot -f}: QEMU resets the device, the back end stops and restarts it)
 * and reads back what it wrote before; QEMU quits and a new QEMU attaches to the same server and
 * reads back what the first wrote, then unbinds and rebinds its virtio_blk driver through sysfs
 * and reads again; a 4200 MiB guest (a memory region over 2 GiB) runs the blk workload. After
 * each QEMU: every ring stopped, no request left on a card, no back-end log of an abandoned
 * request, and the process's fds (/proc/self/fd) and guest-memory mappings (/proc/self/maps) as
 * before it.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestLifecycleTest
{
    static final long SECTORS = 32768; // 16 MiB
    /** In 4 KiB blocks: the pattern at 1 MiB, a second copy at 2 MiB. */
    static final int FIRST = 256;
    static final int SECOND = 512;

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    SharedBlockStore store;
    SimDisk a;
    SimDisk b;
    BlkBackendDevice device;

    @BeforeEach
    void start() throws Exception
    {
        store = new SharedBlockStore(SECTORS);
        a = SimDisk.builder("a", store).latency(LatencyModel.uniform(20_000, 100_000)).queues(2, 128).build();
        b = SimDisk.builder("b", store).latency(LatencyModel.uniform(20_000, 100_000)).queues(2, 128).build();
        final List<BlockCard> cards = List.of(a, b);
        device = rig.serveAfterWarmUp(
            () -> new BlkBackendDevice(cards, 2, 256, 1, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)), "blk.sock");
    }

    @AfterEach
    void stop() throws Exception
    {
        rig.close();
        rig.assertNoNewFds("after the server closed");
    }

    private GuestRun guest(final String name, final String script)
    {
        return GuestRun.builder().name(name).cpus(2).vhostUserBlk(rig.socket(), 2)
            .timeout(Duration.ofSeconds(150)).script(script);
    }

    /** {@code dd} the pattern to block {@code at} (O_DIRECT), as a script line. */
    private static String write(final int at)
    {
        return "dd if=/tmp/p of=/dev/vda bs=4096 seek=" + at + " oflag=direct 2>/dev/null";
    }

    /** The md5 of the pattern-sized range at block {@code at} (O_DIRECT), as a shell expression. */
    private static String readMd5(final int at)
    {
        return "$(dd if=/dev/vda bs=4096 skip=" + at + " count=" + PATTERN_BYTES / 4096 +
            " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)";
    }

    /** After front end number {@code served} left: nothing running, on a card, open or mapped. */
    private void assertQuiet(final long served) throws Exception
    {
        rig.awaitServed(served);
        assertFalse(rig.backend().isDeviceRunning(), "device stopped");
        for (int q = 0; q < 2; q++)
        {
            assertEquals(0, rig.backend().ringState(q), "ring " + q + " stopped");
        }
        for (final SimDisk card : List.of(a, b))
        {
            for (int q = 0; q < card.queueCount(); q++)
            {
                assertEquals(0, card.inFlight(q), "card " + card + " queue " + q + " holds no request");
            }
        }
        rig.assertLogClean("abandoned");
        VhostUserRig.assertGuestMemoryUnmapped();
        // Everything QEMU handed over is gone (the listening socket aside, see assertNoNewFds).
        rig.assertNoNewFds("after front end " + served);
    }

    @Test
    void theGuestRebootsAndReadsBackWhatItWroteBefore() throws Exception
    {
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            makePattern(),
            "mark=$(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | head -c 12)",
            "if [ \"$mark\" != braid-boot-1 ]; then",
            "  " + write(FIRST),
            "  printf braid-boot-1 | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null",
            "  braid_result boot1 written",
            "  reboot -f",
            "  sleep 30",
            "fi",
            "braid_result before-reboot " + readMd5(FIRST),
            write(SECOND),
            "braid_result after-reboot " + readMd5(SECOND),
            "braid_result ioerrors $(dmesg | grep -c 'I/O error' || true)",
            "");
        final GuestResult result = guest("braid-vhost-blk-reboot", script).reboots(true).run();
        result.assertSucceeded();
        final String expected = md5(pattern());
        assertEquals("written", result.result("boot1"), "first boot wrote and rebooted");
        assertEquals(expected, result.result("before-reboot"), "second boot reads what the first wrote");
        assertEquals(expected, result.result("after-reboot"), "and runs the workload again");
        assertEquals("0", result.result("ioerrors"));
        assertEquals(expected, md5(GuestPattern.storeBytes(store, SECOND * 4096L, PATTERN_BYTES)), "the store holds it");
        assertTrue(device.starts() >= 2, "the reset stopped the device and the second boot started it again: " +
            device.starts() + " starts");
        System.out.println("reboot: done after " + result.doneAfterSeconds() + " s, " + device.starts() + " device starts");
        assertQuiet(1);
    }

    @Test
    void aNewQemuReadsWhatTheFirstWroteThenItsDriverIsUnboundAndRebound() throws Exception
    {
        final GuestResult first = guest("braid-vhost-blk-reconnect-1", String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            makePattern(),
            write(FIRST),
            "braid_result wrote " + readMd5(FIRST),
            "")).run();
        first.assertSucceeded();
        final String expected = md5(pattern());
        assertEquals(expected, first.result("wrote"));
        assertQuiet(1);
        final long startsAfterFirst = device.starts();

        final GuestResult second = guest("braid-vhost-blk-reconnect-2", String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            "braid_result read " + readMd5(FIRST),
            "v=$(basename $(readlink -f /sys/block/vda/device))",
            "echo $v > /sys/bus/virtio/drivers/virtio_blk/unbind",
            "n=100; while [ -e /dev/vda ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n-1)); done",
            "[ -e /dev/vda ] && braid_result unbound no || braid_result unbound yes",
            "echo $v > /sys/bus/virtio/drivers/virtio_blk/bind",
            "braid_wait /dev/vda || { echo no /dev/vda after rebind; exit 4; }",
            "braid_result rebound " + readMd5(FIRST),
            makePattern(),
            write(SECOND),
            "braid_result after-rebind " + readMd5(SECOND),
            "braid_result ioerrors $(dmesg | grep -c 'I/O error' || true)",
            "")).run();
        second.assertSucceeded();
        assertEquals(expected, second.result("read"), "the second QEMU reads what the first wrote");
        assertEquals("yes", second.result("unbound"), "the driver let go of the disk");
        assertEquals(expected, second.result("rebound"), "after unbind and bind the data is still there");
        assertEquals(expected, second.result("after-rebind"), "and the rebound driver writes and reads");
        assertEquals("0", second.result("ioerrors"));
        assertTrue(device.starts() >= startsAfterFirst + 2, "driver unbind stopped the device and bind restarted it: " +
            startsAfterFirst + " then " + device.starts() + " starts");
        System.out.println("reconnect: second QEMU done after " + second.doneAfterSeconds() + " s; starts " +
            startsAfterFirst + " -> " + device.starts());
        assertQuiet(2);
    }

    /** 4200 MiB: QEMU's q35 puts 2 GiB below 4 GiB and 2152 MiB above, one region over 2 GiB. */
    @Test
    void aGuestOfMoreThanFourGibRunsTheBlkWorkload() throws Exception
    {
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            "braid_result memkb $(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2)",
            makePattern(),
            "braid_result ready 1",
            // Fill the page cache so that the guest's buffers spread over its high memory too.
            "i=0; while [ $i -lt 8 ]; do dd if=/tmp/p of=/dev/vda bs=4096 seek=$((" + FIRST + " + i * 64)) oflag=direct 2>/dev/null; i=$((i+1)); done",
            "dd if=/dev/vda of=/dev/null bs=1M count=4 2>/dev/null",
            "braid_result direct " + readMd5(FIRST + 7 * 64),
            "dd if=/tmp/p of=/dev/vda bs=4096 seek=" + (FIRST + 8 * 64) + " conv=fsync 2>/dev/null",
            "echo 3 > /proc/sys/vm/drop_caches",
            "braid_result buffered $(dd if=/dev/vda bs=4096 skip=" + (FIRST + 8 * 64) + " count=" + PATTERN_BYTES / 4096 +
                " 2>/dev/null | md5sum | cut -d' ' -f1)",
            "braid_result ioerrors $(dmesg | grep -c 'I/O error' || true)",
            "");
        final GuestResult result;
        long largest = 0;
        try (RunningGuest guest = guest("braid-vhost-blk-4200m", script).memoryMiB(4200).start())
        {
            assertEquals("1", guest.awaitResult("ready", Duration.ofSeconds(120)));
            largest = largestGuestMapping();
            result = guest.awaitResult();
        }
        result.assertSucceeded();
        final String expected = md5(pattern());
        // MemTotal leaves out what the kernel reserved: 4200 MiB of RAM shows as about 3.9 GiB.
        assertTrue(Long.parseLong(result.result("memkb")) > 3_900_000, "the guest has its 4200 MiB: " + result.result("memkb") + " kB");
        assertTrue(largest > 2L << 30, "a mapped region over 2 GiB: " + largest + " bytes");
        assertEquals(expected, result.result("direct"), "O_DIRECT read back");
        assertEquals(expected, result.result("buffered"), "buffered read back");
        assertEquals("0", result.result("ioerrors"));
        assertEquals(expected, md5(GuestPattern.storeBytes(store, (FIRST + 8 * 64) * 4096L, PATTERN_BYTES)), "the store holds it");
        System.out.println("4200 MiB guest: done after " + result.doneAfterSeconds() + " s, largest mapping " +
            (largest >> 20) + " MiB");
        assertQuiet(1);
    }

    /** The largest mapping of the guest's memfd in this process, in bytes. */
    private static long largestGuestMapping() throws Exception
    {
        long largest = 0;
        for (final String line : Files.readAllLines(Path.of("/proc/self/maps")))
        {
            if (line.contains("memory-backend-memfd"))
            {
                final String[] range = line.substring(0, line.indexOf(' ')).split("-");
                largest = Math.max(largest, Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16));
            }
        }
        return largest;
    }
}
