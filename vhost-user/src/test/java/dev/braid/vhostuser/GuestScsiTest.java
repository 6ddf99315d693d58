package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.scsi.SimHba;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.testkit.guest.RunningGuest;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.vhostuser.GuestBlkTest.PATTERN_BYTES;
import static dev.braid.vhostuser.GuestBlkTest.PATTERN_OFFSET;
import static dev.braid.vhostuser.GuestBlkTest.md5;
import static dev.braid.vhostuser.GuestBlkTest.pattern;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A stock Linux guest (QEMU 7.2, TCG) runs virtio_scsi and sd on {@code vhost-user-scsi-pci} against
 * Braid over two sim HBAs that reach one LUN (one store): the guest scans the bus, finds one disk
 * of the LUN's size, writes known data and reads it back with O_DIRECT and through the page cache;
 * the host finds the same bytes in the store. Then an HBA fails mid dd loop and the guest sees no
 * error. Console logs stay in target/guest-logs.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestScsiTest
{
    static final long BLOCKS = 32768; // 16 MiB

    @TempDir
    Path dir;
    final List<String> logs = new ArrayList<>();
    SharedBlockStore store;
    SimHba a;
    SimHba b;
    VhostUserServer server;
    Set<String> fdsBefore;

    @AfterEach
    void stop() throws Exception
    {
        if (server != null)
        {
            server.close();
        }
    }

    private synchronized void log(final String line)
    {
        logs.add(line);
        System.out.println(line);
    }

    private void serve(final int requestQueues, final Aggregation aggregation) throws Exception
    {
        store = new SharedBlockStore(BLOCKS);
        final SimTarget[] targets = {new SimTarget(new SimLun(store, new AtomicLong(), "BRAIDSCSI0", 0x5C51))};
        final SystemNanoClock clock = new SystemNanoClock();
        a = new SimHba("hba-a", clock, targets, 4, 128, 20_000);
        b = new SimHba("hba-b", clock, targets, 4, 128, 40_000);
        final List<ScsiCard> cards = List.of(a, b);
        // Warm-up as in GuestBlkTest: JNA and junixsocket open a few fds once per process.
        try (VhostUserServer warmUp = new VhostUserServer(dir.resolve("warm.sock"),
            new VhostUserBackend(new ScsiBackendDevice(cards, requestQueues, 256, 1, aggregation), 32, this::log), this::log);
            TestFrontEnd fe = new TestFrontEnd(warmUp.path(), 1 << 20))
        {
            fe.send(VhostUserRequest.SET_OWNER, VhostUserDescriptor.FLAGS_VERSION, new byte[0]);
            fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.send(VhostUserRequest.SET_MEM_TABLE, VhostUserDescriptor.FLAGS_VERSION,
                TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
        }
        fdsBefore = ProcessResources.fdTargets();
        server = new VhostUserServer(dir.resolve("scsi.sock"),
            new VhostUserBackend(new ScsiBackendDevice(cards, requestQueues, 256, 1, aggregation), 32, this::log), this::log);
    }

    @Test
    void oneRequestQueueActiveActive() throws Exception
    {
        writeAndReadBack(1, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
    }

    @Test
    void twoRequestQueuesActivePassive() throws Exception
    {
        writeAndReadBack(2, Aggregation.activePassive(Failback.immediate()));
    }

    private void writeAndReadBack(final int queues, final Aggregation aggregation) throws Exception
    {
        serve(queues, aggregation);
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/sda || { echo no /dev/sda; exit 3; }",
            "braid_result size512 $(cat /sys/block/sda/size)",
            "braid_result disks $(ls -d /sys/block/sd* | wc -l)",
            "braid_result vendor $(cat /sys/block/sda/device/vendor)",
            "braid_result mq $(ls /sys/block/sda/mq | wc -l)",
            GuestBlkTest.makePattern(),
            "braid_result written-md5 $(md5sum < /tmp/p | cut -d' ' -f1)",
            "dd if=/tmp/p of=/dev/sda bs=4096 seek=" + PATTERN_OFFSET / 4096 + " oflag=direct 2>/dev/null",
            "braid_result direct-md5 $(dd if=/dev/sda bs=4096 skip=" + PATTERN_OFFSET / 4096 + " count=" +
                PATTERN_BYTES / 4096 + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "dd if=/tmp/p of=/dev/sda bs=4096 seek=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 + " conv=fsync 2>/dev/null",
            "echo 3 > /proc/sys/vm/drop_caches",
            "braid_result buffered-md5 $(dd if=/dev/sda bs=4096 skip=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 +
                " count=" + PATTERN_BYTES / 4096 + " 2>/dev/null | md5sum | cut -d' ' -f1)",
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "");
        final GuestResult result = GuestRun.builder()
            .name("braid-vhost-scsi-q" + queues + (aggregation.isActivePassive() ? "-ap" : "-aa"))
            .cpus(2)
            .vhostUserScsi(server.path(), queues)
            // A loaded TCG host can miss the IO-APIC timer check (seen: a panic before the guest ran).
            .kernelArgs("no_timer_check")
            .timeout(Duration.ofSeconds(150))
            .script(script)
            .run()
            .assertSucceeded();
        System.out.println("guest " + result.name() + ": booted after " + result.bootedAfterSeconds() + " s, done after " +
            result.doneAfterSeconds() + " s");
        final String expected = md5(pattern());
        assertEquals(Long.toString(BLOCKS), result.result("size512"), "guest sees the LUN's size");
        assertEquals("1", result.result("disks"), "one LUN, one sd disk (no phantom targets or LUNs)");
        assertEquals("BRAID", result.result("vendor"), "INQUIRY vendor");
        assertEquals(Integer.toString(queues), result.result("mq"), "request queues the guest uses");
        assertEquals(expected, result.result("written-md5"));
        assertEquals(expected, result.result("direct-md5"), "O_DIRECT read back");
        assertEquals(expected, result.result("buffered-md5"), "buffered read back");
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
        assertEquals(expected, md5(storeBytes(PATTERN_OFFSET, PATTERN_BYTES)), "the store holds the O_DIRECT pattern");
        assertEquals(expected, md5(storeBytes(PATTERN_OFFSET + PATTERN_BYTES, PATTERN_BYTES)), "and the buffered one");
        assertEquals(md5(new byte[4096]), md5(storeBytes(PATTERN_OFFSET - 4096, 4096)), "nothing before the offset");
        assertTrue(a.commandsSubmitted() + b.commandsSubmitted() > 0, "the HBAs served");
        assertNoLeaks();
    }

    @Test
    void anHbaLinkGoesDownMidIoActiveActive() throws Exception
    {
        failMidIo(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), CardFault.LINK_DOWN, "linkdown-aa");
    }

    @Test
    void theActiveHbaFailStopsMidIoActivePassive() throws Exception
    {
        failMidIo(Aggregation.activePassive(Failback.manual()), CardFault.FAIL_STOP, "failstop-ap");
    }

    private void failMidIo(final Aggregation aggregation, final CardFault fault, final String name) throws Exception
    {
        serve(2, aggregation);
        final int rounds = 24;
        final String script = String.join("\n",
            "braid_wait /dev/sda || { echo no /dev/sda; exit 3; }",
            GuestBlkTest.makePattern(),
            "want=$(md5sum < /tmp/p | cut -d' ' -f1)",
            "ok=0; bad=0; i=0",
            "braid_result started 1",
            "while [ $i -lt " + rounds + " ]; do",
            "  if dd if=/tmp/p of=/dev/sda bs=64k seek=$((i * " + PATTERN_BYTES / 65536 + ")) oflag=direct 2>/dev/null; then",
            "    got=$(dd if=/dev/sda bs=64k skip=$((i * " + PATTERN_BYTES / 65536 + ")) count=" + PATTERN_BYTES / 65536 +
                " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "    if [ \"$got\" = \"$want\" ]; then ok=$((ok+1)); else bad=$((bad+1)); fi",
            "  else bad=$((bad+1)); fi",
            "  i=$((i+1))",
            "done",
            "braid_result ok $ok",
            "braid_result bad $bad",
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "braid_result scsierrors $(dmesg | grep -c -i 'FAILED Result\\|Sense Key' || true)",
            "");
        final GuestResult result;
        try (RunningGuest guest = GuestRun.builder()
            .name("braid-vhost-scsi-" + name)
            .cpus(2)
            .vhostUserScsi(server.path(), 2)
            .kernelArgs("no_timer_check")
            .timeout(Duration.ofSeconds(180))
            .script(script)
            .start())
        {
            assertEquals("1", guest.awaitResult("started", Duration.ofSeconds(120)), "guest loop started");
            final long before = a.commandsSubmitted();
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (a.commandsSubmitted() < before + 16 && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
            a.inject(fault, 0);
            log("test: hba a " + fault + " after " + a.commandsSubmitted() + " commands");
            result = guest.awaitResult();
        }
        result.assertSucceeded();
        System.out.println("failover " + name + ": done after " + result.doneAfterSeconds() + " s; ok=" +
            result.result("ok") + " bad=" + result.result("bad") + " a=" + a.commandsSubmitted() + " b=" +
            b.commandsSubmitted());
        assertEquals(Integer.toString(rounds), result.result("ok"), "every round matched");
        assertEquals("0", result.result("bad"), "no round failed");
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
        assertEquals("0", result.result("scsierrors"), "no failed SCSI command in the guest's kernel log");
        assertTrue(b.commandsSubmitted() > 0, "hba b took over");
        final String expected = md5(pattern());
        for (int i = 0; i < rounds; i++)
        {
            assertEquals(expected, md5(storeBytes((long)i * PATTERN_BYTES, PATTERN_BYTES)), "store round " + i);
        }
        assertNoLeaks();
    }

    private void assertNoLeaks() throws Exception
    {
        ProcessResources.awaitServed(server, 1);
        server.close();
        server = null;
        final Set<String> now = ProcessResources.fdTargets();
        now.removeAll(fdsBefore);
        now.removeIf(fd -> fd.contains("-> socket:"));
        assertTrue(now.isEmpty(), "fds leaked after QEMU exited and the server closed: " + now);
        assertEquals(0, ProcessResources.mappings("memory-backend-memfd"), "guest memory unmapped");
        assertFalse(logs.stream().anyMatch(l -> l.contains("refused") || l.contains("not started")),
            "backend log clean: " + logs);
    }

    private byte[] storeBytes(final long offset, final int length)
    {
        final GuestMemory scratch = GuestMemory.allocate(length);
        final IoVector into = new IoVector(1);
        into.reset(scratch);
        into.add(0, length);
        store.read(offset / SharedBlockStore.SECTOR_SIZE, into, length);
        final byte[] bytes = new byte[length];
        scratch.getBytes(0, bytes, 0, length);
        return bytes;
    }
}
