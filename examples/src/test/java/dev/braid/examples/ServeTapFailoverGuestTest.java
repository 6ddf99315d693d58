package dev.braid.examples;

import dev.braid.examples.faults.RealPeerLab;
import dev.braid.testkit.RealPeers;
import dev.braid.testkit.TapNetwork;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.testkit.guest.GuestRun;
import dev.braid.testkit.guest.RunningGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code braid serve --device net --mode ap} on two real TAPs in one Linux bridge with a veth into a
 * namespace that runs a real Linux stack. A stock Linux guest sends {@value #MIB} MiB of random data
 * over TCP (busybox {@code nc}) to {@code nc -l} in the namespace; when part of it has arrived the
 * test sets the active TAP down. The transfer completes over the other TAP with the guest's bytes
 * (length and sha256 compared with what the guest computed before sending), the TAP that carried
 * the flow before the fault is the one failed, the survivor carries the rest, and the bridge's fdb
 * has the guest's MAC on the survivor (Braid's gratuitous ARP from it).
 */
class ServeTapFailoverGuestTest
{
    private static final int MIB = 24;
    private static final int PORT = 5001;
    /** The QEMU default MAC, which is serve's default --mac. */
    private static final String GUEST_MAC = "52:54:00:12:34:56";

    @TempDir
    Path dir;
    @RegisterExtension
    final ServeProcesses processes = new ServeProcesses();
    private ServeProcess serve;

    @Test
    void tcpTransferCompletesIntactWhenTheActiveTapGoesDown() throws Exception
    {
        RealPeers.requireRoot();
        RealPeers.requireExecutable("ip");
        RealPeers.requireExecutable("bridge");
        RealPeers.requireExecutable("python3");
        final Path busybox = RealPeers.requireFile("/bin/busybox");
        RealPeers.requireFile("/dev/net/tun");
        try (RealPeerLab lab = RealPeerLab.create())
        {
            final RealPeerLab.Network net = lab.network(2);
            final String t0 = net.taps().get(0);
            final String t1 = net.taps().get(1);
            final String namespace = net.namespace();
            // Not net.guestIp(): the namespace pins that to the soak rig's MAC; this guest answers ARP itself.
            final String guestIp = net.peerIp().substring(0, net.peerIp().lastIndexOf('.')) + ".11";

            final Path received = dir.resolve("received.bin");
            final Process listener = new ProcessBuilder("ip", "netns", "exec", namespace, busybox.toString(), "nc", "-l",
                "-p", Integer.toString(PORT)).redirectErrorStream(false).redirectOutput(received.toFile())
                .redirectError(dir.resolve("nc-listen.err").toFile()).start();
            try
            {
                awaitListening(namespace);
                final Path socket = dir.resolve("net.sock");
                serve = startServe("--device", "net", "--socket", socket.toString(), "--card", "tap:" + t0,
                    "--card", "tap:" + t1, "--mode", "ap", "--queues", "1");
                serve.awaitLine("braid serve: net on", 30);
                TapNetwork.awaitForwarding(t0);
                TapNetwork.awaitForwarding(t1);

                final String script = String.join("\n",
                    "braid_wait /sys/class/net/eth0 || { echo no eth0; exit 3; }",
                    "dd if=/dev/urandom of=/tmp/d bs=1048576 count=" + MIB + " 2>/dev/null",
                    "braid_result bytes $(wc -c < /tmp/d)",
                    "braid_result sha256 $(sha256sum < /tmp/d | cut -d' ' -f1)",
                    "ip link set eth0 up",
                    "ip addr add " + guestIp + "/24 dev eth0",
                    "ping -c 3 -i 0.2 -W 5 " + net.peerIp() + " > /tmp/ping 2>&1 || cat /tmp/ping",
                    "braid_result sending start",
                    "t0=$(cut -d' ' -f1 /proc/uptime)",
                    "nc " + net.peerIp() + " " + PORT + " < /tmp/d; rc=$?",
                    "t1=$(cut -d' ' -f1 /proc/uptime)",
                    "braid_result ncrc $rc",
                    "braid_result nctime \"$t0-$t1\"",
                    "s=/sys/class/net/eth0/statistics",
                    "braid_result txpackets $(cat $s/tx_packets)",
                    "grep Tcp: /proc/net/snmp",
                    "braid_result retrans $(awk '/^Tcp:/ { n++; if (n == 2) print $13 }' /proc/net/snmp)",
                    "");
                final long start = System.nanoTime();
                final GuestResult result;
                final long receivedAtFault;
                final long t0RxAtFault;
                final long t1RxAtFault;
                final long faultNanos;
                long maxGapBefore = 0;
                long maxGapAfter = 0;
                try (RunningGuest guest = GuestRun.builder().name("braid-serve-tap-failover-tcp").cpus(2).memoryMiB(384)
                    .vhostUserNet(socket, 1).timeout(Duration.ofSeconds(150)).script(script).start())
                {
                    assertEquals("start", guest.awaitResult("sending", Duration.ofSeconds(120)), "guest reached its transfer");
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    long size = 0;
                    long changed = 0;
                    while (size < 3L << 20 && listener.isAlive() && System.nanoTime() < deadline)
                    {
                        Thread.sleep(2);
                        final long now = Files.size(received);
                        if (now != size)
                        {
                            final long t = System.nanoTime();
                            maxGapBefore = size == 0 ? 0 : Math.max(maxGapBefore, t - changed);
                            changed = t;
                            size = now;
                        }
                    }
                    t0RxAtFault = rxBytes(t0);
                    t1RxAtFault = rxBytes(t1);
                    receivedAtFault = Files.size(received);
                    TapNetwork.run(List.of("ip", "link", "set", t0, "down"));
                    faultNanos = System.nanoTime();
                    // The longest stretch with no new byte in the namespace, from the fault to EOF.
                    changed = faultNanos;
                    while (listener.isAlive() && System.nanoTime() < deadline)
                    {
                        Thread.sleep(2);
                        final long now = Files.size(received);
                        if (now != size)
                        {
                            final long t = System.nanoTime();
                            maxGapAfter = Math.max(maxGapAfter, t - changed);
                            changed = t;
                            size = now;
                        }
                    }
                    result = guest.awaitResult();
                }
                assertTrue(listener.waitFor(20, TimeUnit.SECONDS), "nc -l in the namespace ended");
                final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                final long t0RxEnd = rxBytes(t0);
                final long t1RxEnd = rxBytes(t1);
                final String fdb = TapNetwork.run(List.of("bridge", "fdb", "show", "br", net.bridge()));
                final String guestFdb = fdb.lines().filter(l -> l.startsWith(GUEST_MAC)).reduce("", (a, b) -> a + b + "; ");
                final String summary = "received at fault " + receivedAtFault + " B of " + ((long)MIB << 20) + "; " + t0 +
                    " rx bytes at fault " + t0RxAtFault + " end " + t0RxEnd + "; " + t1 + " rx at fault " + t1RxAtFault +
                    " end " + t1RxEnd + "; guest fdb " + guestFdb + "; guest nc " + result.result("nctime") + " s; guest TCP RetransSegs " +
                    result.result("retrans") + "; longest stall in the namespace's byte stream before the fault " +
                    TimeUnit.NANOSECONDS.toMillis(maxGapBefore) + " ms, from the fault on " +
                    TimeUnit.NANOSECONDS.toMillis(maxGapAfter) + " ms; " + elapsedMs + " ms since boot start, " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - faultNanos) +
                    " ms after the fault";
                System.out.println("tap failover tcp: " + summary);
                result.assertSucceeded();
                assertEquals("0", result.result("ncrc"), "guest nc exit status: " + summary);
                final long bytes = Files.size(received);
                final String sha = sha256(received);
                System.out.println("tap failover tcp: received " + bytes + " B sha256 " + sha + ", guest sent " +
                    result.result("bytes") + " B sha256 " + result.result("sha256"));
                assertEquals(Long.toString((long)MIB << 20), result.result("bytes"));
                assertTrue(receivedAtFault > 0 && receivedAtFault < (long)MIB << 20, "the fault hit mid-transfer: " + summary);
                assertEquals((long)MIB << 20, bytes, "every byte arrived: " + summary);
                assertEquals(result.result("sha256"), sha, "the namespace received exactly the guest's bytes: " + summary);
                assertTrue(t0RxAtFault > receivedAtFault / 2, "the failed TAP carried the flow before the fault: " + summary);
                assertTrue(t1RxEnd - t1RxAtFault > (((long)MIB << 20) - receivedAtFault) / 2,
                    "the surviving TAP carried the rest: " + summary);
                assertTrue(guestFdb.contains("dev " + t1 + " "), "the bridge learned the guest's MAC on the survivor: " + summary);
                assertFalse(guestFdb.contains("dev " + t0 + " "), "no fdb entry left on the failed TAP: " + summary);
                serve.stopsOnSigterm("braid serve stops on SIGTERM");
            }
            finally
            {
                listener.descendants().forEach(ProcessHandle::destroyForcibly);
                listener.destroyForcibly();
                listener.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Bytes the TAP received from its user side (what Braid wrote: the guest's tx). */
    private static long rxBytes(final String tap) throws IOException
    {
        return Long.parseLong(Files.readString(Path.of("/sys/class/net", tap, "statistics", "rx_bytes")).trim());
    }

    private static void awaitListening(final String namespace) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!TapNetwork.run(List.of("ip", "netns", "exec", namespace, "ss", "-tlnH")).contains(":" + PORT + " "))
        {
            assertTrue(System.nanoTime() < deadline, "nc -l did not start in the namespace");
            Thread.sleep(20);
        }
    }

    private static String sha256(final Path file) throws Exception
    {
        final MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file))
        {
            final byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; )
            {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private ServeProcess startServe(final String... args) throws IOException
    {
        return processes.start(dir.resolve("serve.log"), args);
    }
}
