package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.scsi.SimHba;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingScsiCard;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.vhostuser.GuestPattern.PATTERN_BYTES;
import static dev.braid.vhostuser.GuestPattern.md5;
import static dev.braid.vhostuser.GuestPattern.pattern;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A LUN reset from the guest: the host's {@code sg_reset -d} (sg3-utils, copied in with its libraries)
 * runs on {@code /dev/sda} while a dd write/read-back loop runs beside it, on Braid's vhost-user-scsi
 * over two sim HBAs reaching one LUN. The reset must reach the HBAs as a LOGICAL UNIT RESET, succeed,
 * and leave the guest's disk working: every round reads back what it wrote, the store holds it.
 *
 * <p>A command in flight when a reset lands is ended with VIRTIO_SCSI_S_RESET, which Linux's
 * virtio_scsi maps to DID_RESET and the midlayer retries; with VIRTIO_SCSI_S_ABORTED (DID_ABORT) dd
 * saw an I/O error in about 2 runs of 5 ("tag#115 FAILED Result: hostbyte=DID_ABORT").
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestScsiLunResetTest
{
    static final long BLOCKS = 32768; // 16 MiB

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();

    /** Counts the TMFs an HBA is asked for, by function, and the commands it ends RESET or ABORTED. */
    static final class TmfCounting extends ForwardingScsiCard
    {
        final AtomicLong lunResets = new AtomicLong();
        final AtomicLong others = new AtomicLong();
        final AtomicLong endedReset = new AtomicLong();
        final AtomicLong endedAborted = new AtomicLong();

        TmfCounting(final ScsiCard card)
        {
            super(card);
        }

        @Override
        public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
        {
            return super.submit(queue, io, token, (t, status, length) ->
            {
                final int response = ScsiIo.response(status);
                if (response == VirtioScsiResponse.RESET || response == VirtioScsiResponse.ABORTED)
                {
                    (response == VirtioScsiResponse.RESET ? endedReset : endedAborted).incrementAndGet();
                }
                return sink.complete(t, status, length);
            });
        }

        @Override
        public boolean taskManagement(
            final int queue, final int function, final int target, final int lun, final long tag, final long token,
            final CompletionSink sink)
        {
            (function == ScsiCard.TMF_LOGICAL_UNIT_RESET ? lunResets : others).incrementAndGet();
            return super.taskManagement(queue, function, target, lun, tag, token, sink);
        }
    }

    @Test
    void sgResetOfTheLunDuringIoReachesTheHbasAndTheDiskKeepsWorking() throws Exception
    {
        final TwoSimCards<SimHba> hbas = TwoSimCards.hbas(BLOCKS, 4);
        final SharedBlockStore store = hbas.store();
        final TmfCounting a = new TmfCounting(hbas.a());
        final TmfCounting b = new TmfCounting(hbas.b());
        rig.serve(new ScsiBackendDevice(List.<ScsiCard>of(a, b), 2, 256, 1,
            Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)), "scsi.sock");
        final int rounds = 16;
        final int slots = 32; // 8 MiB of the 16 MiB LUN
        final int per = PATTERN_BYTES / 65536;
        final String script = String.join("\n",
            "braid_wait /dev/sda || { echo no /dev/sda; exit 3; }",
            GuestPattern.makePattern(),
            "want=$(md5sum < /tmp/p | cut -d' ' -f1)",
            // The loop brackets the resets by construction: the resets start after its first round,
            // and it goes on until it has done at least 16 rounds and 2 after the resets ended.
            "( ok=0; bad=0; i=0; after=0",
            "  while [ $i -lt " + rounds + " ] || [ $after -lt 2 ]; do",
            "    [ -e /tmp/resets-done ] && after=$((after+1))",
            "    slot=$((i % " + slots + "))",
            "    if dd if=/tmp/p of=/dev/sda bs=64k seek=$((slot * " + per + ")) oflag=direct 2>/dev/null; then",
            "      got=$(dd if=/dev/sda bs=64k skip=$((slot * " + per + ")) count=" + per +
                " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "      if [ \"$got\" = \"$want\" ]; then ok=$((ok+1)); else bad=$((bad+1)); echo \"round $i: read back differs\"; fi",
            "    else bad=$((bad+1)); echo \"round $i: write failed\"; fi",
            "    i=$((i+1))",
            "    [ $i -eq 1 ] && touch /tmp/first-round",
            "  done",
            "  echo \"$ok $bad $i $after\" > /tmp/loop ) &",
            "loop=$!",
            "braid_wait /tmp/first-round 600 || { echo loop never ran; exit 4; }",
            "rrc=0; for r in 1 2 3 4 5 6 7 8; do sg_reset -v -d /dev/sda || rrc=$?; done; braid_result reset-rc $rrc",
            "[ -e /tmp/loop ] && braid_result loop-running 0 || braid_result loop-running 1",
            "touch /tmp/resets-done",
            "wait $loop",
            "braid_result rounds $(cut -d' ' -f3 /tmp/loop)",
            "braid_result after $(cut -d' ' -f4 /tmp/loop)",
            "braid_result ok $(cut -d' ' -f1 /tmp/loop)",
            "braid_result bad $(cut -d' ' -f2 /tmp/loop)",
            // After the resets, the disk still answers: read the first round back once more.
            "braid_result after-md5 $(dd if=/dev/sda bs=64k count=" + per + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "braid_result ioerrors $(dmesg | grep -c -i 'I/O error' || true)",
            "dmesg | grep -i -E 'reset|abort|error|sd 0' || true",
            "");
        final GuestResult result = GuestRun.builder()
            .name("braid-vhost-scsi-lun-reset")
            .cpus(2)
            .memoryMiB(384)
            .hostBinary("sg_reset")
            .vhostUserScsi(rig.socket(), 2)
            .timeout(Duration.ofSeconds(150))
            .script(script)
            .run();
        System.out.println("lun reset: done after " + result.doneAfterSeconds() + " s; reset-rc=" + result.result("reset-rc") +
            " rounds=" + result.result("rounds") + " ok=" + result.result("ok") + " bad=" + result.result("bad") +
            "; LUN resets a=" + a.lunResets + " b=" +
            b.lunResets + ", other TMFs a=" + a.others + " b=" + b.others + "; commands the HBAs ended RESET " +
            (a.endedReset.get() + b.endedReset.get()) + ", ABORTED " + (a.endedAborted.get() + b.endedAborted.get()));
        result.assertSucceeded();
        assertEquals("0", result.result("reset-rc"), "sg_reset -d succeeded");
        assertTrue(a.lunResets.get() + b.lunResets.get() >= 8, "the HBAs saw every LOGICAL UNIT RESET: a=" +
            a.lunResets + " b=" + b.lunResets);
        assertEquals(0, a.endedAborted.get() + b.endedAborted.get(), "a LUN reset ends commands RESET, never ABORTED");
        assertEquals("1", result.result("loop-running"), "the resets ran while the dd loop was still going");
        final String expected = md5(pattern());
        final int done = Integer.parseInt(result.result("rounds"));
        assertTrue(done >= rounds, "rounds: " + done);
        assertTrue(Integer.parseInt(result.result("after")) >= 2, "rounds after the resets: " + result.result("after"));
        assertEquals(Integer.toString(done), result.result("ok"), "every round beside the resets matched");
        assertEquals("0", result.result("bad"), "no round failed");
        assertEquals(expected, result.result("after-md5"), "the disk reads after the reset");
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
        for (int i = 0; i < Math.min(done, slots); i++)
        {
            assertEquals(expected, md5(GuestPattern.storeBytes(store, (long)i * PATTERN_BYTES, PATTERN_BYTES)), "store round " + i);
        }
    }
}
