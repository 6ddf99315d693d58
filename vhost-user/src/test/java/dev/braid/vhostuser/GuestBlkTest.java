package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.guest.Firmware;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.RunningGuest;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A stock Linux guest (QEMU 7.2, TCG) runs its own virtio_blk driver against Braid's vhost-user
 * backend over two sim disks sharing one store: dd with and without O_DIRECT, md5 in the guest,
 * the same bytes found in the store by the host; then a card fails mid-I/O and the guest sees
 * nothing. Console logs stay in target/guest-logs.
 */
class GuestBlkTest
{
    static final long SECTORS = 32768; // 16 MiB
    /** 256 KiB at 1 MiB + 4 KiB: not at the start, so a wrong offset shows. */
    static final long PATTERN_OFFSET = (1 << 20) + 4096;
    static final int PATTERN_BYTES = 256 * 1024;

    @TempDir
    Path dir;
    final List<String> logs = new ArrayList<>();
    SharedBlockStore store;
    SimDisk a;
    SimDisk b;
    VhostUserServer server;
    Set<String> fdsBefore;
    long qemuBefore;

    @BeforeEach
    void count()
    {
        qemuBefore = GuestRun.liveQemuProcesses();
    }

    @AfterEach
    void stop() throws Exception
    {
        if (server != null)
        {
            server.close();
        }
        assertEquals(qemuBefore, GuestRun.liveQemuProcesses(), "QEMU processes left behind");
    }

    private synchronized void log(final String line)
    {
        logs.add(line);
        System.out.println(line);
    }

    private void serve(final int maxQueues, final Aggregation aggregation) throws Exception
    {
        store = new SharedBlockStore(SECTORS);
        a = SimDisk.builder("a", store).latency(LatencyModel.uniform(20_000, 100_000)).queues(4, 128).build();
        b = SimDisk.builder("b", store).latency(LatencyModel.uniform(20_000, 100_000)).queues(4, 128).build();
        final List<BlockCard> cards = List.of(a, b);
        final VhostUserBackend backend = new VhostUserBackend(
            new BlkBackendDevice(cards, maxQueues, 256, 1, aggregation), 32, this::log);
        // A throwaway server and session first, fds passed too: JNA and junixsocket open a few fds
        // once per process. The real server is made after the snapshot, and closed before the check,
        // as a listening junixsocket server holds a socket for its next accept.
        try (VhostUserServer warmUp = new VhostUserServer(dir.resolve("warm.sock"),
            new VhostUserBackend(new BlkBackendDevice(cards, maxQueues, 256, 1, aggregation), 32, this::log), this::log);
            TestFrontEnd fe = new TestFrontEnd(warmUp.path(), 1 << 20))
        {
            fe.send(VhostUserRequest.SET_OWNER, VhostUserDescriptor.FLAGS_VERSION, new byte[0]);
            fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.send(VhostUserRequest.SET_MEM_TABLE, VhostUserDescriptor.FLAGS_VERSION,
                TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
        }
        fdsBefore = ProcessResources.fdTargets();
        server = new VhostUserServer(dir.resolve("blk.sock"), backend, this::log);
    }

    @Test
    void oneQueueTwoCpusActiveActive() throws Exception
    {
        writeAndReadBack(1, 1, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), "1");
    }

    @Test
    void twoQueuesTwoCpusActivePassive() throws Exception
    {
        writeAndReadBack(2, 2, Aggregation.activePassive(Failback.immediate()), "2");
    }

    /** Linux with 2 vCPUs enables only 2 of the 4 offered queues: the backend serves the leading two. */
    @Test
    void fourQueuesTwoCpusGuestEnablesTwo() throws Exception
    {
        writeAndReadBack(4, 4, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), "2");
    }

    /** SeaBIOS drives the device first (start, I/O, reset), then Linux starts it again on the same connection. */
    @Test
    void seabiosProbesFirstThenLinuxTwoQueues() throws Exception
    {
        writeAndReadBack(2, 2, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), "2", Firmware.SEABIOS);
    }

    private void writeAndReadBack(final int maxQueues, final int queues, final Aggregation aggregation,
        final String guestQueues) throws Exception
    {
        writeAndReadBack(maxQueues, queues, aggregation, guestQueues, Firmware.QBOOT);
    }

    private void writeAndReadBack(final int maxQueues, final int queues, final Aggregation aggregation,
        final String guestQueues, final Firmware firmware) throws Exception
    {
        serve(maxQueues, aggregation);
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            "braid_result size512 $(cat /sys/block/vda/size)",
            "braid_result mq $(ls /sys/block/vda/mq | wc -l)",
            makePattern(),
            "braid_result written-md5 $(md5sum < /tmp/p | cut -d' ' -f1)",
            "dd if=/tmp/p of=/dev/vda bs=4096 seek=" + PATTERN_OFFSET / 4096 + " oflag=direct 2>/dev/null",
            "braid_result direct-md5 $(dd if=/dev/vda bs=4096 skip=" + PATTERN_OFFSET / 4096 + " count=" +
                PATTERN_BYTES / 4096 + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            // Buffered: through the page cache, flushed, dropped, read again.
            "dd if=/tmp/p of=/dev/vda bs=4096 seek=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 + " conv=fsync 2>/dev/null",
            "echo 3 > /proc/sys/vm/drop_caches",
            "braid_result buffered-md5 $(dd if=/dev/vda bs=4096 skip=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 +
                " count=" + PATTERN_BYTES / 4096 + " 2>/dev/null | md5sum | cut -d' ' -f1)",
            // Throughput for the record (TCG): 4 MiB at 4 MiB, 64 KiB O_DIRECT, timed in centiseconds of uptime.
            "t0=$(cut -d' ' -f1 /proc/uptime | tr -d .)",
            "dd if=/dev/zero of=/dev/vda bs=64k count=64 seek=64 oflag=direct 2>/dev/null",
            "t1=$(cut -d' ' -f1 /proc/uptime | tr -d .)",
            "dd if=/dev/vda of=/dev/null bs=64k count=64 skip=64 iflag=direct 2>/dev/null",
            "t2=$(cut -d' ' -f1 /proc/uptime | tr -d .)",
            "braid_result write-cs $((t1 - t0))",
            "braid_result read-cs $((t2 - t1))",
            "");
        final GuestResult result = GuestRun.builder()
            .name("braid-vhost-blk-q" + queues + (aggregation.isActivePassive() ? "-ap" : "-aa") +
                (firmware == Firmware.QBOOT ? "" : "-" + firmware.name().toLowerCase(java.util.Locale.ROOT)))
            .cpus(2)
            .firmware(firmware)
            .vhostUserBlk(server.path(), queues)
            .timeout(Duration.ofSeconds(150))
            .script(script)
            .run()
            .assertSucceeded();
        System.out.println("guest " + result.name() + ": booted after " + result.bootedAfterSeconds() + " s, done after " +
            result.doneAfterSeconds() + " s; 4 MiB O_DIRECT 64 KiB dd: write " + mibPerSecond(result.result("write-cs")) +
            " MiB/s, read " + mibPerSecond(result.result("read-cs")) + " MiB/s (TCG)");

        final String expected = md5(pattern());
        assertEquals(Long.toString(SECTORS), result.result("size512"), "guest sees the disk's size");
        assertEquals(guestQueues, result.result("mq"), "queues the guest driver uses");
        assertEquals(expected, result.result("written-md5"), "guest made the same pattern as the host");
        assertEquals(expected, result.result("direct-md5"), "O_DIRECT read back");
        assertEquals(expected, result.result("buffered-md5"), "buffered read back");
        assertEquals(expected, md5(storeBytes(PATTERN_OFFSET, PATTERN_BYTES)), "the store holds the O_DIRECT pattern");
        assertEquals(expected, md5(storeBytes(PATTERN_OFFSET + PATTERN_BYTES, PATTERN_BYTES)), "and the buffered one");
        assertEquals(md5(new byte[4096]), md5(storeBytes(PATTERN_OFFSET - 4096, 4096)), "nothing before the offset");
        assertTrue(a.completed() + b.completed() > 0, "the cards served");
        assertNoLeaks();
    }

    /**
     * The guest loops dd write/read-back/md5 while card {@code a} drops its link: every round
     * still matches, no I/O error reaches the guest.
     */
    @Test
    void aCardFailsMidIoAndTheGuestSeesNothing() throws Exception
    {
        failMidIo(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), CardFault.LINK_DOWN, "linkdown-aa");
    }

    @Test
    void theActiveCardFailStopsMidIoAndTheStandbyTakesOver() throws Exception
    {
        failMidIo(Aggregation.activePassive(Failback.manual()), CardFault.FAIL_STOP, "failstop-ap");
    }

    private void failMidIo(final Aggregation aggregation, final CardFault fault, final String name) throws Exception
    {
        serve(2, aggregation);
        final int rounds = 24;
        final String script = String.join("\n",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            makePattern(),
            "want=$(md5sum < /tmp/p | cut -d' ' -f1)",
            "ok=0; bad=0; i=0",
            "braid_result started 1",
            "while [ $i -lt " + rounds + " ]; do",
            "  if dd if=/tmp/p of=/dev/vda bs=64k seek=$((i * " + PATTERN_BYTES / 65536 + ")) oflag=direct 2>/dev/null; then",
            "    got=$(dd if=/dev/vda bs=64k skip=$((i * " + PATTERN_BYTES / 65536 + ")) count=" + PATTERN_BYTES / 65536 +
                " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "    if [ \"$got\" = \"$want\" ]; then ok=$((ok+1)); else bad=$((bad+1)); fi",
            "  else bad=$((bad+1)); fi",
            "  i=$((i+1))",
            "done",
            "braid_result ok $ok",
            "braid_result bad $bad",
            "braid_result ioerrors $(dmesg | grep -c 'I/O error' || true)",
            "");
        final GuestResult result;
        try (RunningGuest guest = GuestRun.builder()
            .name("braid-vhost-blk-" + name)
            .cpus(2)
            .vhostUserBlk(server.path(), 2)
            .timeout(Duration.ofSeconds(180))
            .script(script)
            .start())
        {
            assertEquals("1", guest.awaitResult("started", Duration.ofSeconds(120)), "guest loop started");
            final long completedBefore = a.completed();
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (a.completed() == completedBefore && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
            a.inject(fault, 0);
            log("test: card a " + fault + " after " + a.completed() + " completions");
            result = guest.awaitResult();
        }
        result.assertSucceeded();
        System.out.println("failover " + name + ": done after " + result.doneAfterSeconds() + " s; ok=" +
            result.result("ok") + " bad=" + result.result("bad") + " a=" + a.completed() + " b=" + b.completed());
        assertEquals(Integer.toString(rounds), result.result("ok"), "every round matched");
        assertEquals("0", result.result("bad"), "no round failed");
        assertEquals("0", result.result("ioerrors"), "no error in the guest's kernel log");
        assertTrue(b.completed() > 0, "card b took over");
        final String expected = md5(pattern());
        for (int i = 0; i < rounds; i++)
        {
            assertEquals(expected, md5(storeBytes((long)i * PATTERN_BYTES, PATTERN_BYTES)), "store round " + i);
        }
        assertNoLeaks();
    }

    private static String mibPerSecond(final String centiseconds)
    {
        final int cs = Integer.parseInt(centiseconds);
        return cs <= 0 ? ">400" : String.format("%.1f", 400.0 / cs);
    }

    private void assertNoLeaks() throws Exception
    {
        // QEMU exited: the backend saw the connection close and released its fds and mappings.
        ProcessResources.awaitServed(server, 1);
        server.close();
        server = null;
        // Every fd the back end takes from QEMU (memfds, kick/call eventfds) must be gone. Unix
        // sockets are left out: opening and closing a listening junixsocket server, even with no
        // connection, leaves one socket that only a GC may close (seen with a probe; see DESIGN).
        // Per server, not per connection: the accepted connection itself is closed (BlkEndToEndTest).
        final java.util.Set<String> now = ProcessResources.fdTargets();
        now.removeAll(fdsBefore);
        now.removeIf(fd -> fd.contains("-> socket:"));
        assertTrue(now.isEmpty(), "fds leaked after QEMU exited and the server closed: " + now);
        assertEquals(0, ProcessResources.mappings("memory-backend-memfd"), "guest memory unmapped");
        assertFalse(logs.stream().anyMatch(l -> l.contains("refused") || l.contains("not started")),
            "backend log clean: " + logs);
    }

    /** A 64 KiB block of 16-byte records "braid-pattern-NN" (NN = record mod 256, hex), four times. */
    static String makePattern()
    {
        return String.join("\n",
            "i=0; : > /tmp/b",
            "while [ $i -lt 256 ]; do printf 'braid-pattern-%02x' $i >> /tmp/b; i=$((i+1)); done",
            "cat /tmp/b /tmp/b > /tmp/p2; cat /tmp/p2 /tmp/p2 > /tmp/p4; cat /tmp/p4 /tmp/p4 > /tmp/p8; cat /tmp/p8 /tmp/p8 > /tmp/p16",
            "cat /tmp/p16 /tmp/p16 /tmp/p16 /tmp/p16 > /tmp/p");
    }

    static byte[] pattern()
    {
        final StringBuilder sb = new StringBuilder(PATTERN_BYTES);
        for (int i = 0; i < PATTERN_BYTES / 16; i++)
        {
            sb.append(String.format("braid-pattern-%02x", i % 256));
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
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

    static String md5(final byte[] bytes) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }
}
