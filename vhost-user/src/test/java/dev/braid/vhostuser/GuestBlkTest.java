package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.guest.Firmware;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.virtio.card.BlockCard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A stock Linux guest (QEMU 7.2, TCG) runs its own virtio_blk driver against Braid's vhost-user
 * backend over two sim disks sharing one store: dd with and without O_DIRECT, md5 in the guest,
 * the same bytes found in the store by the host; then a card fails mid-I/O and the guest sees
 * nothing. Console logs stay in target/guest-logs.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestBlkTest
{
    static final long SECTORS = 32768; // 16 MiB

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    TwoSimCards<SimDisk> disks;

    private void serve(final int maxQueues, final Aggregation aggregation) throws Exception
    {
        disks = TwoSimCards.disks(SECTORS, 4);
        final List<BlockCard> cards = List.copyOf(disks.cards());
        rig.serveAfterWarmUp(() -> new BlkBackendDevice(cards, maxQueues, 256, 1, aggregation), "blk.sock");
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
            GuestPattern.roundTrip("/dev/vda"),
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
            .vhostUserBlk(rig.socket(), queues)
            .timeout(Duration.ofSeconds(150))
            .script(script)
            .run()
            .assertSucceeded();
        System.out.println("guest " + result.name() + ": booted after " + result.bootedAfterSeconds() + " s, done after " +
            result.doneAfterSeconds() + " s; 4 MiB O_DIRECT 64 KiB dd: write " + mibPerSecond(result.result("write-cs")) +
            " MiB/s, read " + mibPerSecond(result.result("read-cs")) + " MiB/s (TCG)");

        assertEquals(Long.toString(SECTORS), result.result("size512"), "guest sees the disk's size");
        assertEquals(guestQueues, result.result("mq"), "queues the guest driver uses");
        GuestPattern.assertRoundTrip(result, disks.store());
        assertTrue(disks.aServed() + disks.bServed() > 0, "the cards served");
        rig.assertNothingLeftAfterQemu();
    }

    /**
     * The guest loops dd write/read-back/md5 while card {@code a} fails ({@link GuestFailover#cases}):
     * every round still matches, no I/O error reaches the guest, card b takes over.
     */
    @ParameterizedTest(name = "{2}")
    @MethodSource("dev.braid.vhostuser.GuestFailover#cases")
    void aCardFailsMidIoAndTheGuestSeesNothing(final Aggregation aggregation, final CardFault fault, final String name)
        throws Exception
    {
        serve(2, aggregation);
        GuestFailover.roundsWhileACardFails(rig, disks,
            GuestRun.builder().name("braid-vhost-blk-" + name).cpus(2).vhostUserBlk(rig.socket(), 2).timeout(Duration.ofSeconds(180)),
            "/dev/vda", 1, fault, "");
    }

    private static String mibPerSecond(final String centiseconds)
    {
        final int cs = Integer.parseInt(centiseconds);
        return cs <= 0 ? ">400" : String.format("%.1f", 400.0 / cs);
    }
}
