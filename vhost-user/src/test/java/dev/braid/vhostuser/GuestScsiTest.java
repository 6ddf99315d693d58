package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.scsi.SimHba;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.virtio.card.ScsiCard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

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

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    TwoSimCards<SimHba> hbas;

    private void serve(final int requestQueues, final Aggregation aggregation) throws Exception
    {
        hbas = TwoSimCards.hbas(BLOCKS, 4);
        final List<ScsiCard> cards = List.copyOf(hbas.cards());
        rig.serveAfterWarmUp(() -> new ScsiBackendDevice(cards, requestQueues, 256, 1, aggregation), "scsi.sock");
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
            GuestPattern.roundTrip("/dev/sda"),
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "");
        final GuestResult result = guest("braid-vhost-scsi-q" + queues + (aggregation.isActivePassive() ? "-ap" : "-aa"),
            queues, 150)
            .script(script)
            .run()
            .assertSucceeded();
        System.out.println("guest " + result.name() + ": booted after " + result.bootedAfterSeconds() + " s, done after " +
            result.doneAfterSeconds() + " s");
        assertEquals(Long.toString(BLOCKS), result.result("size512"), "guest sees the LUN's size");
        assertEquals("1", result.result("disks"), "one LUN, one sd disk (no phantom targets or LUNs)");
        assertEquals("BRAID", result.result("vendor"), "INQUIRY vendor");
        assertEquals(Integer.toString(queues), result.result("mq"), "request queues the guest uses");
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
        GuestPattern.assertRoundTrip(result, hbas.store());
        assertTrue(hbas.aServed() + hbas.bServed() > 0, "the HBAs served");
        rig.assertNothingLeftAfterQemu();
    }

    /** HBA a fails ({@link GuestFailover#cases}) under the guest's dd loop: no I/O error, no failed SCSI command. */
    @ParameterizedTest(name = "{2}")
    @MethodSource("dev.braid.vhostuser.GuestFailover#cases")
    void anHbaFailsMidIo(final Aggregation aggregation, final CardFault fault, final String name) throws Exception
    {
        serve(2, aggregation);
        final GuestResult result = GuestFailover.roundsWhileACardFails(rig, hbas, guest("braid-vhost-scsi-" + name, 2, 180),
            "/dev/sda", 16, fault, "braid_result scsierrors $(dmesg | grep -c -i 'FAILED Result\\|Sense Key' || true)");
        assertEquals("0", result.result("scsierrors"), "no failed SCSI command in the guest's kernel log");
    }

    /** A 2-vCPU guest on the served socket with {@code queues} request queues. */
    private GuestRun guest(final String name, final int queues, final int timeoutSeconds)
    {
        return GuestRun.builder()
            .name(name)
            .cpus(2)
            .vhostUserScsi(rig.socket(), queues)
            // A loaded TCG host can miss the IO-APIC timer check (seen: a panic before the guest ran).
            .kernelArgs("no_timer_check")
            .timeout(Duration.ofSeconds(timeoutSeconds));
    }
}
