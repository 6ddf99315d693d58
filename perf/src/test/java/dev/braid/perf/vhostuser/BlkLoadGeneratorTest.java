package dev.braid.perf.vhostuser;

import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.DiskImages;
import dev.braid.testkit.RealPeers;
import dev.braid.vhostuser.BlkBackendDevice;
import dev.braid.vhostuser.VhostUserBackend;
import dev.braid.vhostuser.VhostUserServer;
import dev.braid.virtio.card.BlockCard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The load generator against Braid's own back end (in process) and against qemu-storage-daemon:
 * same front end, verified data, no errors. And against qemu-storage-daemon's null block driver,
 * which discards writes: the verification must see that.
 */
class BlkLoadGeneratorTest
{
    @TempDir
    Path dir;

    @Test
    void braidBackendServesVerifiedMixedLoadOnTwoQueues() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(16 << 11); // 16 MiB in 512-byte sectors
        final List<BlockCard> cards = List.of(SimDisk.builder("a", store).build(), SimDisk.builder("b", store).build());
        final List<String> log = new ArrayList<>();
        final VhostUserBackend backend = new VhostUserBackend(new BlkBackendDevice(cards, 2, 256, 1), 32, log::add);
        try (VhostUserServer server = new VhostUserServer(dir.resolve("braid.sock"), backend, log::add))
        {
            final BlkLoadGenerator.Result r = BlkLoadGenerator.run(new BlkLoadGenerator.Context()
                .socket(server.path()).queues(2).depth(8).blockSize(4096).writePercent(50)
                .durationMillis(1000).workingSetBytes(4 << 20).verify(true).seed(7));
            System.out.println("braid in process: " + r.line());
            assertClean(r);
        }
    }

    @Test
    void qemuStorageDaemonServesVerifiedMixedLoadOnTwoQueues() throws Exception
    {
        final Path qsd = RealPeers.requireExecutable("qemu-storage-daemon");
        final Path image = DiskImages.sparse(dir.resolve("disk.img"), 32 << 20);
        final Path socket = dir.resolve("qsd.sock");
        try (Daemon d = new Daemon(qsd, "driver=file,node-name=disk,filename=" + image, socket, 2))
        {
            final BlkLoadGenerator.Result r = BlkLoadGenerator.run(new BlkLoadGenerator.Context()
                .socket(socket).queues(2).depth(16).blockSize(4096).writePercent(50)
                .durationMillis(2000).workingSetBytes(16 << 20).verify(true).seed(11));
            System.out.println("qemu-storage-daemon: " + r.line());
            assertClean(r);
            assertEquals(32L << 20, new BlkFrontEndProbe(socket).capacity(), "GET_CONFIG capacity of the image");
        }
    }

    @Test
    void verificationCatchesABackendThatDropsWrites() throws Exception
    {
        final Path qsd = RealPeers.requireExecutable("qemu-storage-daemon");
        final Path socket = dir.resolve("null.sock");
        // null-co completes every request with success, discards writes and reads zeroes.
        try (Daemon d = new Daemon(qsd, "driver=null-co,node-name=disk,size=16777216,read-zeroes=on", socket, 1))
        {
            final BlkLoadGenerator.Result r = BlkLoadGenerator.run(new BlkLoadGenerator.Context()
                .socket(socket).queues(1).depth(8).blockSize(4096).writePercent(50)
                .durationMillis(300).workingSetBytes(1 << 20).verify(true).seed(3));
            System.out.println("null-co: " + r.line());
            assertEquals(0, r.errors(), "null-co reports success");
            assertTrue(r.verifiedReads() > 0, "reads of written blocks were compared");
            assertEquals(r.verifiedReads(), r.verifyFailures(), "every compared read returned zeroes, not the data");
        }
    }

    private static void assertClean(final BlkLoadGenerator.Result r)
    {
        assertTrue(r.requests() > 0, "requests completed in the timed window");
        assertEquals(0, r.errors(), "error statuses");
        assertEquals(0, r.deviceFaults(), "bad used elements");
        assertEquals(0, r.verifyFailures(), "reads that returned other data than last written");
        assertTrue(r.verifiedReads() > 0, "reads compared");
        assertTrue(r.readBackBlocks() > 0, "blocks read back after the run");
    }

    /** Reads the capacity the way the generator does, on a fresh connection. */
    private record BlkFrontEndProbe(Path socket)
    {
        long capacity() throws IOException
        {
            try (BlkFrontEnd blk = BlkFrontEnd.start(socket, 1, 1, 4096, true, false))
            {
                blk.stop();
                return blk.capacityBytes;
            }
        }
    }

    /** qemu-storage-daemon exporting one block node as vhost-user-blk; killed and reaped on close. */
    static final class Daemon implements AutoCloseable
    {
        private final Process process;
        private final Path log;

        Daemon(final Path qsd, final String blockdev, final Path socket, final int queues) throws Exception
        {
            log = socket.resolveSibling(socket.getFileName() + ".log");
            process = new ProcessBuilder(qsd.toString(), "--blockdev", blockdev, "--export",
                "type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path=" + socket +
                    ",writable=on,num-queues=" + queues)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(socket))
            {
                if (!process.isAlive() || System.nanoTime() > deadline)
                {
                    close();
                    fail("qemu-storage-daemon did not listen on " + socket + ": " + Files.readString(log));
                }
                Thread.sleep(20);
            }
        }

        public void close() throws Exception
        {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor();
            }
            System.out.println("qemu-storage-daemon log: " + Files.readString(log).trim());
        }
    }
}
