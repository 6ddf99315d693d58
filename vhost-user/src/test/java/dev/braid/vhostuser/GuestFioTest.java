package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.guest.GuestFio;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.testkit.guest.RunningGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The host's fio (with its shared libraries, testkit HostBinary) runs in a stock Linux guest (QEMU
 * 7.2, TCG) on Braid's vhost-user-blk over two sim disks sharing one store: 8 MiB of 4 KiB random
 * O_DIRECT writes through libaio at depth 8, each block carrying a crc32c verify header, then every
 * block read back and checked, while the card serving the guest fails mid-write. fio must exit 0
 * with no error and no verify failure. Console logs (with fio's report) stay in target/guest-logs.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestFioTest
{
    static final long SECTORS = 32768; // 16 MiB

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    SharedBlockStore store;
    SimDisk a;
    SimDisk b;

    /** Two sim disks over one 16 MiB store, served with 2 queues. */
    private void serve(final Aggregation aggregation) throws Exception
    {
        final TwoSimCards<SimDisk> disks = TwoSimCards.disks(SECTORS, 4);
        store = disks.store();
        a = disks.a();
        b = disks.b();
        rig.serve(new BlkBackendDevice(List.copyOf(disks.cards()), 2, 256, 1, aggregation), "blk.sock");
    }

    /** A 2-vCPU guest with the host's fio in it, on the served socket with 2 queues. */
    private RunningGuest startFioGuest(final String name, final String script) throws Exception
    {
        return GuestRun.builder()
            .name(name)
            .cpus(2)
            .memoryMiB(640)
            .hostBinary("fio")
            .vhostUserBlk(rig.socket(), 2)
            .timeout(Duration.ofSeconds(150))
            .script(script)
            .start();
    }

    /** The card serving fio's queue fails ({@link GuestFailover#cases}) mid-write. */
    @ParameterizedTest(name = "{2}")
    @MethodSource("dev.braid.vhostuser.GuestFailover#cases")
    void fioVerifiesEveryBlockWhileACardFails(final Aggregation aggregation, final CardFault fault, final String name)
        throws Exception
    {
        serve(aggregation);
        final String script = GuestFio.verifyScript("/dev/vda", "");
        final GuestResult result;
        final String failed;
        try (RunningGuest guest = startFioGuest("braid-vhost-blk-fio-" + name, script))
        {
            assertEquals("1", guest.awaitResult("started", Duration.ofSeconds(120)), "guest booted");
            // Fail whichever card serves fio's queue, once it has done a few hundred of the 2048 writes.
            final long aBefore = a.completed();
            final long bBefore = b.completed();
            Waits.until(() -> a.completed() - aBefore >= 300 || b.completed() - bBefore >= 300, Duration.ofSeconds(60));
            final SimDisk victim = a.completed() - aBefore >= b.completed() - bBefore ? a : b;
            victim.inject(fault, 0);
            failed = victim == a ? "a" : "b";
            System.out.println("test: card " + failed + " " + fault + " after a=" + (a.completed() - aBefore) +
                " b=" + (b.completed() - bBefore) + " completions since fio started");
            result = guest.awaitResult();
        }
        System.out.println("fio " + name + ": done after " + result.doneAfterSeconds() + " s; a=" + a.completed() +
            " b=" + b.completed() + "; fio-rc=" + result.result("fio-rc") + " " + result.result("fio-err"));
        GuestFio.assertVerified(result);
        final SimDisk survivor = failed.equals("a") ? b : a;
        assertTrue(survivor.completed() > 0, "the other card took over");
    }

    /**
     * The check above can fail: fio writes its 8 MiB with verify headers, the host flips one byte
     * of one block in the store, and fio's verify-only pass must exit non-zero and name the block.
     */
    @Test
    void aByteFlippedInTheStoreFailsFiosVerify() throws Exception
    {
        serve(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
        final String fio = "fio --name=v --filename=/dev/vda --thread --ioengine=libaio --iodepth=8 --direct=1 " +
            "--rw=randwrite --bs=4k --size=8M --verify=crc32c --verify_fatal=1";
        final String script = String.join("\n",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            fio + " --do_verify=0 --output=/tmp/w.out || { cat /tmp/w.out; exit 4; }",
            "braid_result written 1",
            "sleep 3",
            fio + " --verify_only --output=/tmp/fio.out",
            "rc=$?",
            "cat /tmp/fio.out",
            "braid_result fio-rc $rc",
            "braid_result fio-verify-failures $(grep -c -i -E 'verify.*(fail|bad)|bad magic|crc32c.*(wanted|mismatch)' /tmp/fio.out || true)",
            "braid_result failed-offset $(grep -o 'verify failed at file /dev/vda offset [0-9]*' /tmp/fio.out | head -1 | sed 's/.*offset //')",
            "");
        final GuestResult result;
        try (RunningGuest guest = startFioGuest("braid-vhost-blk-fio-corrupted", script))
        {
            assertEquals("1", guest.awaitResult("written", Duration.ofSeconds(120)), "fio wrote its blocks");
            final int at = (1 << 20) + 100; // inside the block at 1 MiB, past fio's header
            store.data().putByte(at, (byte)~store.data().getByte(at));
            result = guest.awaitResult();
        }
        System.out.println("fio corrupted: fio-rc=" + result.result("fio-rc") + " verify-failures=" +
            result.result("fio-verify-failures"));
        result.assertSucceeded();
        assertNotEquals("0", result.result("fio-rc"), "fio's verify saw the flipped byte");
        assertNotEquals("0", result.result("fio-verify-failures"), "and said so in its report");
        assertEquals(Integer.toString(1 << 20), result.result("failed-offset"), "at the block with the flipped byte");
    }
}
