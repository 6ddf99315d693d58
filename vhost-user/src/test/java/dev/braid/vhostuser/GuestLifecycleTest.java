package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.scsi.SimHba;
import dev.braid.testkit.guest.GuestPing;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.testkit.guest.RunningGuest;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.card.ScsiCard;
import org.junit.jupiter.api.AfterEach;
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
 * before it. The same for vhost-user-scsi (the sd disk written, the guest rebooted, read back; a
 * second QEMU reads it, virtio_scsi unbound and rebound) and vhost-user net (the guest pings the
 * sim peer, reboots and pings again; a second QEMU pings, virtio_net unbound and rebound, pings).
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
    BackendDevice device;
    /** The rings a front end starts: 2 request queues (blk), control + event + 2 (scsi), 2 pairs (net). */
    int rings;

    /** blk over two sim disks, 2 queues. */
    private void serveBlk() throws Exception
    {
        final TwoSimCards<SimDisk> disks = TwoSimCards.disks(SECTORS, 2);
        store = disks.store();
        a = disks.a();
        b = disks.b();
        final List<BlockCard> cards = List.copyOf(disks.cards());
        device = rig.serveAfterWarmUp(
            () -> new BlkBackendDevice(cards, 2, 256, 1, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)), "blk.sock");
        rings = 2;
    }

    /** scsi over two sim HBAs to one sim LUN, 2 request queues. */
    private void serveScsi() throws Exception
    {
        final TwoSimCards<SimHba> hbas = TwoSimCards.hbas(SECTORS, 2);
        store = hbas.store();
        final List<ScsiCard> cards = List.copyOf(hbas.cards());
        device = rig.serveAfterWarmUp(
            () -> new ScsiBackendDevice(cards, 2, 256, 1, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)), "scsi.sock");
        rings = 4;
    }

    /** net over two sim NICs on one sim segment (peer 10.99.0.2), 2 queue pairs, flow-hash. */
    private void serveNet() throws Exception
    {
        final List<NetCard> cards = TwoSimNics.on(20_000).cards();
        device = rig.serveAfterWarmUp(() -> new NetBackendDevice(cards, 2, 256, 1,
            Aggregation.activeActive(SelectorKind.FLOW_HASH), GuestNetTest.GUEST_MAC), "net.sock");
        rings = 4;
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

    private GuestRun scsiGuest(final String name, final String script)
    {
        return GuestRun.builder().name(name).cpus(2).vhostUserScsi(rig.socket(), 2)
            .timeout(Duration.ofSeconds(180)).script(script);
    }

    /**
     * A net guest on 2 vCPUs with 2 queue pairs and, when {@code marker} is given, a QEMU-emulated
     * virtio-blk disk of its own (/dev/vda, not Braid's) that tells its boots apart.
     */
    private GuestRun netGuest(final String name, final Path marker, final String script)
    {
        final GuestRun run = GuestRun.builder().name(name).cpus(2).vhostUserNet(rig.socket(), 2)
            .timeout(Duration.ofSeconds(180)).script(script);
        return marker == null ? run : run.qemuArgs("-drive", "file=" + marker + ",if=none,id=mark,format=raw",
            "-device", "virtio-blk-pci,drive=mark");
    }

    /** {@code dd} the pattern to block {@code at} of {@code disk} (O_DIRECT), as a script line. */
    private static String write(final String disk, final int at)
    {
        return "dd if=/tmp/p of=" + disk + " bs=4096 seek=" + at + " oflag=direct 2>/dev/null";
    }

    /** The md5 of the pattern-sized range at block {@code at} of {@code disk} (O_DIRECT), as a shell expression. */
    private static String readMd5(final String disk, final int at)
    {
        return "$(dd if=" + disk + " bs=4096 skip=" + at + " count=" + PATTERN_BYTES / 4096 +
            " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)";
    }

    /** Script lines: eth0 up with 10.99.0.1/24, {@code count} pings to the sim peer; result KEY-received and the like. */
    private static String ping(final String key, final int count)
    {
        return String.join("\n", GuestPing.up(GuestPing.SIM_GUEST), GuestPing.ping(key, GuestPing.SIM_PEER, count, "0.05", 5));
    }

    /** Script lines that unbind {@code driver} from the virtio device behind {@code sysfs} and bind it again. */
    private static String unbindAndRebind(final String driver, final String sysfs, final String gone)
    {
        return String.join("\n",
            "v=$(readlink -f " + sysfs + " | grep -o 'virtio[0-9]*' | head -1)",
            "echo $v > /sys/bus/virtio/drivers/" + driver + "/unbind",
            "n=100; while [ -e " + gone + " ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n-1)); done",
            "[ -e " + gone + " ] && braid_result unbound no || braid_result unbound yes",
            "echo $v > /sys/bus/virtio/drivers/" + driver + "/bind");
    }

    /** After front end number {@code served} left: nothing running, on a card (sim disks), open or mapped. */
    private void assertQuiet(final long served) throws Exception
    {
        rig.awaitServed(served);
        assertFalse(rig.backend().isDeviceRunning(), "device stopped");
        assertNull(device.runningDevice(), "no running device");
        for (int q = 0; q < rings; q++)
        {
            assertEquals(0, rig.backend().ringState(q), "ring " + q + " stopped");
        }
        // The sim disks count what they hold; the HBAs and NICs were fenced at the stop.
        for (final SimDisk card : a == null ? List.<SimDisk>of() : List.of(a, b))
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
        serveBlk();
        rebootsAndReadsBack("blk", "/dev/vda", this::guest);
    }

    @Test
    void aNewQemuReadsWhatTheFirstWroteThenItsDriverIsUnboundAndRebound() throws Exception
    {
        serveBlk();
        aNewQemuReadsBackThenRebinds("blk", "/dev/vda", "virtio_blk", this::guest);
    }

    /** 4200 MiB: QEMU's q35 puts 2 GiB below 4 GiB and 2152 MiB above, one region over 2 GiB. */
    @Test
    void aGuestOfMoreThanFourGibRunsTheBlkWorkload() throws Exception
    {
        serveBlk();
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            "braid_result memkb $(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2)",
            makePattern(),
            "braid_result ready 1",
            // Fill the page cache so that the guest's buffers spread over its high memory too.
            "i=0; while [ $i -lt 8 ]; do dd if=/tmp/p of=/dev/vda bs=4096 seek=$((" + FIRST + " + i * 64)) oflag=direct 2>/dev/null; i=$((i+1)); done",
            "dd if=/dev/vda of=/dev/null bs=1M count=4 2>/dev/null",
            "braid_result direct " + readMd5("/dev/vda", FIRST + 7 * 64),
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

    /** vhost-user-scsi: the sd disk is written, the guest reboots (QEMU resets the device), the second boot reads it back. */
    @Test
    void aScsiGuestRebootsAndReadsBackWhatItWroteBefore() throws Exception
    {
        serveScsi();
        rebootsAndReadsBack("scsi", "/dev/sda", this::scsiGuest);
    }

    /** vhost-user-scsi: a second QEMU reads what the first wrote, then virtio_scsi is unbound and rebound. */
    @Test
    void aNewQemuReadsTheScsiDiskTheFirstWroteThenItsDriverIsUnboundAndRebound() throws Exception
    {
        serveScsi();
        aNewQemuReadsBackThenRebinds("scsi", "/dev/sda", "virtio_scsi", this::scsiGuest);
    }

    /**
     * The guest writes the pattern to {@code disk} and a boot mark, reboots ({@code reboot -f}:
     * QEMU resets the device, the back end stops and restarts it); the second boot reads the
     * pattern back, writes and reads it again. The store holds it; the device started again.
     */
    private void rebootsAndReadsBack(final String kind, final String disk,
        final java.util.function.BiFunction<String, String, GuestRun> guests) throws Exception
    {
        final String script = String.join("\n",
            "set -e",
            "braid_wait " + disk + " 300 || { echo no " + disk + "; exit 3; }",
            makePattern(),
            "mark=$(dd if=" + disk + " bs=512 count=1 iflag=direct 2>/dev/null | head -c 12)",
            "if [ \"$mark\" != braid-boot-1 ]; then",
            "  " + write(disk, FIRST),
            "  printf braid-boot-1 | dd of=" + disk + " bs=512 conv=sync,fsync 2>/dev/null",
            "  braid_result boot1 written",
            "  reboot -f",
            "  sleep 30",
            "fi",
            "braid_result before-reboot " + readMd5(disk, FIRST),
            write(disk, SECOND),
            "braid_result after-reboot " + readMd5(disk, SECOND),
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "");
        final GuestResult result = guests.apply("braid-vhost-" + kind + "-reboot", script).reboots(true).run();
        result.assertSucceeded();
        final String expected = md5(pattern());
        assertEquals("written", result.result("boot1"), "first boot wrote and rebooted");
        assertEquals(expected, result.result("before-reboot"), "second boot reads what the first wrote");
        assertEquals(expected, result.result("after-reboot"), "and runs the workload again");
        assertEquals("0", result.result("ioerrors"));
        assertEquals(expected, md5(GuestPattern.storeBytes(store, SECOND * 4096L, PATTERN_BYTES)), "the store holds it");
        assertTrue(device.starts() >= 2, "the reset stopped the device and the second boot started it again: " +
            device.starts() + " starts");
        System.out.println(kind + " reboot: done after " + result.doneAfterSeconds() + " s, " + device.starts() + " device starts");
        assertQuiet(1);
    }

    /**
     * A first QEMU writes the pattern to {@code disk} and quits; a second one on the same server
     * reads it back, unbinds {@code driver} through sysfs and binds it again (a stop and a start),
     * reads again, writes and reads the pattern elsewhere.
     */
    private void aNewQemuReadsBackThenRebinds(final String kind, final String disk, final String driver,
        final java.util.function.BiFunction<String, String, GuestRun> guests) throws Exception
    {
        final String waitDisk = "braid_wait " + disk + " 300 || { echo no " + disk + "; exit 3; }";
        final GuestResult first = guests.apply("braid-vhost-" + kind + "-reconnect-1", String.join("\n",
            "set -e",
            waitDisk,
            makePattern(),
            write(disk, FIRST),
            "braid_result wrote " + readMd5(disk, FIRST),
            "")).run();
        first.assertSucceeded();
        final String expected = md5(pattern());
        assertEquals(expected, first.result("wrote"));
        assertQuiet(1);
        final long startsAfterFirst = device.starts();

        final GuestResult second = guests.apply("braid-vhost-" + kind + "-reconnect-2", String.join("\n",
            "set -e",
            waitDisk,
            "braid_result read " + readMd5(disk, FIRST),
            unbindAndRebind(driver, "/sys/block/" + disk.substring("/dev/".length()) + "/device", disk),
            "braid_wait " + disk + " 300 || { echo no " + disk + " after rebind; exit 4; }",
            "braid_result rebound " + readMd5(disk, FIRST),
            makePattern(),
            write(disk, SECOND),
            "braid_result after-rebind " + readMd5(disk, SECOND),
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "")).run();
        second.assertSucceeded();
        assertEquals(expected, second.result("read"), "the second QEMU reads what the first wrote");
        assertEquals("yes", second.result("unbound"), "the driver let go of the disk");
        assertEquals(expected, second.result("rebound"), "after unbind and bind the data is still there");
        assertEquals(expected, second.result("after-rebind"), "and the rebound driver writes and reads");
        assertEquals("0", second.result("ioerrors"));
        assertTrue(device.starts() >= startsAfterFirst + 2, "driver unbind stopped the device and bind restarted it: " +
            startsAfterFirst + " then " + device.starts() + " starts");
        System.out.println(kind + " reconnect: second QEMU done after " + second.doneAfterSeconds() + " s; starts " +
            startsAfterFirst + " -> " + device.starts());
        assertQuiet(2);
    }

    /** vhost-user net: the guest pings the sim peer, reboots (QEMU resets the device) and pings again. */
    @Test
    void aNetGuestPingsRebootsAndPingsAgain() throws Exception
    {
        serveNet();
        final Path marker = Files.write(rig.server().path().resolveSibling("mark.img"), new byte[1 << 20]);
        final String script = String.join("\n",
            "braid_wait /dev/vda || { echo no marker disk; exit 3; }",
            "mark=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 12)",
            "if [ \"$mark\" != braid-boot-1 ]; then",
            "  " + ping("boot1", 20).replace("\n", "\n  "),
            "  " + GuestPing.errors("boot1-errors"),
            "  printf braid-boot-1 | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null",
            "  reboot -f",
            "  sleep 30",
            "fi",
            ping("boot2", 20),
            GuestPing.errors("boot2-errors"),
            "braid_result rxqueues $(ls /sys/class/net/eth0/queues | grep -c rx)",
            "");
        final GuestResult result = netGuest("braid-vhost-net-reboot", marker, script).reboots(true).run();
        result.assertSucceeded();
        assertEquals("20", result.result("boot1-received"), "the first boot's pings answered");
        assertEquals("20", result.result("boot2-received"), "after the reboot the pings are answered again");
        assertEquals("0", result.result("boot1-errors"));
        assertEquals("0", result.result("boot2-errors"));
        assertEquals("2", result.result("rxqueues"));
        assertTrue(device.starts() >= 2, "the reset stopped the device and the second boot started it again: " +
            device.starts() + " starts");
        System.out.println("net reboot: done after " + result.doneAfterSeconds() + " s, " + device.starts() + " device starts");
        assertQuiet(1);
    }

    /** vhost-user net: a second QEMU pings on the same server, then virtio_net is unbound and rebound and pings again. */
    @Test
    void aNewQemuPingsOnTheSameServerThenItsNetDriverIsUnboundAndRebound() throws Exception
    {
        serveNet();
        final GuestResult first = netGuest("braid-vhost-net-reconnect-1", null, String.join("\n",
            ping("", 20),
            GuestPing.errors("errors"),
            "")).run();
        first.assertSucceeded();
        assertEquals("20", first.result("received"), "the first QEMU's pings answered");
        assertEquals("0", first.result("errors"));
        assertQuiet(1);
        final long startsAfterFirst = device.starts();

        final GuestResult second = netGuest("braid-vhost-net-reconnect-2", null, String.join("\n",
            ping("", 20),
            GuestPing.errors("errors"),
            unbindAndRebind("virtio_net", "/sys/class/net/eth0/device", "/sys/class/net/eth0"),
            ping("rebound", 20),
            GuestPing.errors("rebound-errors"),
            "")).run();
        second.assertSucceeded();
        assertEquals("20", second.result("received"), "the second QEMU's pings answered");
        assertEquals("0", second.result("errors"));
        assertEquals("yes", second.result("unbound"), "the driver let go of eth0");
        assertEquals("20", second.result("rebound-received"), "after unbind and bind the pings are answered");
        assertEquals("0", second.result("rebound-errors"));
        assertTrue(device.starts() >= startsAfterFirst + 2, "driver unbind stopped the device and bind restarted it: " +
            startsAfterFirst + " then " + device.starts() + " starts");
        System.out.println("net reconnect: second QEMU done after " + second.doneAfterSeconds() + " s; starts " +
            startsAfterFirst + " -> " + device.starts());
        assertQuiet(2);
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
