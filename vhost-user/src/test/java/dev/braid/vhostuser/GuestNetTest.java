package dev.braid.vhostuser;

import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.SimNic;
import dev.braid.testkit.guest.GuestPing;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.NoQemuLeftBehind;
import dev.braid.testkit.guest.RunningGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A stock Linux guest (QEMU 7.2, TCG) runs its own virtio_net driver against Braid's vhost-user
 * backend over two sim NICs on one sim segment, whose peer host (10.99.0.2) answers ARP and ICMP.
 * The guest configures 10.99.0.1/24 and pings the peer; mid-ping the card carrying the flow fails.
 * The guest's driver sees no error, the ping loses at most {@link #MAX_LOST} replies (the ones in
 * flight on the dead port), and the peer receives Braid's gratuitous ARP for the guest's address
 * from the surviving card. Console logs stay in target/guest-logs.
 */
@ExtendWith(NoQemuLeftBehind.class)
class GuestNetTest
{
    static final long GUEST_MAC = 0x525400123456L;
    static final String GUEST_MAC_TEXT = "52:54:00:12:34:56";
    static final int GUEST_IP = FrameBuilder.ipv4(10, 99, 0, 1);
    static final long PEER_MAC = 0x525400FE0002L;
    static final int PEER_IP = FrameBuilder.ipv4(10, 99, 0, 2);
    static final int PINGS = 300;
    /**
     * Replies that may be lost in a failover: the echo requests and replies on the dead card (tx
     * is resent, but a reply the peer already sent to the dead port is gone, as on real L2) while
     * the link-down is noticed. At a 20 ms interval and sub-ms detection that is one, rarely two.
     */
    static final int MAX_LOST = 3;
    /** {@code -Dbraid.guest.netMsix=true} drops {@code vectors=0}, to recheck QEMU 7.2's TCG crash with MSI-X. */
    static final boolean MSIX = Boolean.getBoolean("braid.guest.netMsix");

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    TwoSimNics nics;
    NetBackendDevice netDevice;

    private void serve(final int pairs, final Aggregation aggregation) throws Exception
    {
        nics = TwoSimNics.on(20_000);
        netDevice = new NetBackendDevice(nics.cards(), pairs, 256, 1, aggregation, GUEST_MAC);
        rig.serve(netDevice, "net.sock");
    }

    private static List<String> netArgs(final Path socket, final int pairs)
    {
        // VhostUserArgs.net with the guest's MAC spelled out (the cards accept that one).
        return List.of(
            "-chardev", "socket,id=vu0,path=" + socket.toAbsolutePath(),
            "-netdev", "vhost-user,id=vu0-net,chardev=vu0,queues=" + pairs,
            "-device", "virtio-net-pci,netdev=vu0-net,mq=" + (pairs > 1 ? "on" : "off") + (MSIX ? "" : ",vectors=0") + ",mac=" + GUEST_MAC_TEXT);
    }

    private static String script(final int pings)
    {
        return String.join("\n",
            GuestPing.up(GuestPing.SIM_GUEST),
            "braid_result mac $(cat /sys/class/net/eth0/address)",
            "braid_result rxqueues $(ls /sys/class/net/eth0/queues | grep -c rx)",
            GuestPing.warmUp("warm", GuestPing.SIM_PEER),
            "braid_result started 1",
            GuestPing.ping("", GuestPing.SIM_PEER, pings, "0.02", 2),
            GuestPing.errors("errors"),
            "braid_result dmesg $(dmesg | grep -ci 'virtio_net\\|NETDEV WATCHDOG\\|transmit queue' || true)",
            "dmesg | grep -i 'virtio_net\\|NETDEV WATCHDOG\\|transmit queue' || true",
            "");
    }

    @Test
    void pingThroughTwoSimCardsNoFault() throws Exception
    {
        serve(1, Aggregation.activeActive(SelectorKind.FLOW_HASH));
        final GuestResult result = GuestRun.builder()
            .name("braid-vhost-net-q1-aa")
            .cpus(1)
            .qemuArgs(netArgs(rig.socket(), 1).toArray(String[]::new))
            .timeout(Duration.ofSeconds(150))
            .script(script(50))
            .run()
            .assertSucceeded();
        assertEquals(GUEST_MAC_TEXT, result.result("mac"));
        assertEquals("3", result.result("warm"), "the first pings were answered");
        assertEquals("50", result.result("sent"));
        assertEquals("50", result.result("received"), "no fault, no loss");
        assertEquals("0", result.result("duplicates"));
        assertEquals("0", result.result("errors"), "guest interface counters");
        assertEquals("0", result.result("dmesg"), "nothing in the guest's kernel log");
        assertTrue(nics.peer().echoReplies() >= 53, "the peer answered: " + nics.peer().echoReplies());
        assertEquals(GUEST_MAC, nics.peer().arpLookup(GUEST_IP), "the peer learned the guest from its ARP");
        assertBackendClean();
    }

    /** Active-active flow-hash: the card carrying the ping flow drops its link mid-ping. */
    @Test
    void theCardCarryingThePingLosesItsLinkMidPing() throws Exception
    {
        failMidPing(Aggregation.activeActive(SelectorKind.FLOW_HASH), CardFault.LINK_DOWN, 1, 1, "linkdown-aa");
    }

    /** Active-passive: the active card fail-stops (detected by completion timeout), the standby takes over. */
    @Test
    void theActiveCardFailStopsMidPing() throws Exception
    {
        failMidPing(Aggregation.activePassive(Failback.manual()), CardFault.FAIL_STOP, 1, 1, "failstop-ap");
    }

    /** Two queue pairs on two vCPUs: the guest enables the second pair through QEMU, the backend restarts on both. */
    @Test
    void twoQueuePairsTwoCpusLinkDownMidPing() throws Exception
    {
        failMidPing(Aggregation.activeActive(SelectorKind.FLOW_HASH), CardFault.LINK_DOWN, 2, 2, "linkdown-aa-q2");
    }

    private void failMidPing(final Aggregation aggregation, final CardFault fault, final int pairs, final int cpus,
        final String name) throws Exception
    {
        serve(pairs, aggregation);
        final GuestResult result;
        final SimNic failed;
        final SimNic survivor;
        final long announcementsBefore;
        try (RunningGuest guest = GuestRun.builder()
            .name("braid-vhost-net-" + name)
            .cpus(cpus)
            .qemuArgs(netArgs(rig.socket(), pairs).toArray(String[]::new))
            .timeout(Duration.ofSeconds(180))
            .script(script(PINGS))
            .start())
        {
            assertEquals("1", guest.awaitResult("started", Duration.ofSeconds(120)), "guest ping started");
            // Let the flow settle on a card, then fail the one that carries it.
            final long aBefore = nics.a().txFrames();
            final long bBefore = nics.b().txFrames();
            Waits.until(() -> nics.a().txFrames() + nics.b().txFrames() >= aBefore + bBefore + 20, Duration.ofSeconds(30));
            failed = nics.a().txFrames() - aBefore >= nics.b().txFrames() - bBefore ? nics.a() : nics.b();
            survivor = failed == nics.a() ? nics.b() : nics.a();
            announcementsBefore = nics.peer().announcements();
            failed.inject(fault, 0);
            rig.log("test: card " + failed.name() + " " + fault + " after " + failed.txFrames() + " tx frames");
            result = guest.awaitResult();
        }
        result.assertSucceeded();
        final int sent = Integer.parseInt(result.result("sent"));
        final int received = Integer.parseInt(result.result("received"));
        System.out.println("net failover " + name + ": sent=" + sent + " received=" + received + " lost=" + (sent - received) +
            " failed=" + failed.name() + " tx=" + failed.txFrames() + " survivor=" + survivor.name() + " tx=" +
            survivor.txFrames() + " lostToDeadPort=" + nics.segment().lostToDeadPort() + " announcements=" +
            (nics.peer().announcements() - announcementsBefore) + " backend starts=" + netDevice.starts() + " rewound=" +
            netDevice.rewound() + " rxLeft=" + netDevice.rxLeft() + "; done after " + result.doneAfterSeconds() + " s");
        assertEquals(Integer.toString(pairs), result.result("rxqueues"), "queue pairs the guest driver has");
        assertEquals(PINGS, sent);
        assertTrue(sent - received <= MAX_LOST, "lost " + (sent - received) + " pings, at most " + MAX_LOST);
        assertEquals("0", result.result("duplicates"), "no duplicate reply");
        assertEquals("0", result.result("errors"), "guest interface error and drop counters");
        assertEquals("0", result.result("dmesg"), "nothing in the guest's kernel log");
        assertTrue(survivor.txFrames() > PINGS / 2, "the survivor carried the rest: " + survivor.txFrames());
        assertTrue(nics.peer().announcements() > announcementsBefore, "the peer got a gratuitous ARP after the failover");
        assertEquals(GUEST_IP, nics.peer().lastAnnouncedIp(), "for the guest's address, learned from its tx");
        assertEquals(GUEST_MAC, nics.peer().lastAnnouncedMac());
        assertEquals(survivor.port(), nics.segment().portOf(GUEST_MAC), "the segment sends the guest's frames to the survivor");
        assertBackendClean();
    }

    private void assertBackendClean() throws Exception
    {
        rig.awaitServed(1);
        rig.assertLogClean("abandoned");
        VhostUserRig.assertGuestMemoryUnmapped();
    }
}
