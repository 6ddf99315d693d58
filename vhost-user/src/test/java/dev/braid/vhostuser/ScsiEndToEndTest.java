package dev.braid.vhostuser;

import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.scsi.SimHba;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * vhost-user-scsi as QEMU 7.2 sets it up (control, event and one request ring; VIRTIO_SCSI_F_CHANGE
 * acked as QEMU's param_change passes it), driven by Braid's own front end: a good command, the
 * guest's bad input on the request and control queues answered as the virtio-scsi spec says, TMFs
 * through the sim HBAs, and GET_VRING_BASE giving back the event buffers the device held.
 */
class ScsiEndToEndTest
{
    static final int QUEUE_SIZE = 64;
    static final long CONTROL_RING = 0x10000;
    static final long EVENT_RING = 0x18000;
    static final long REQUEST_RING = 0x20000;
    static final long HEADER = 0x40000;
    static final long RESPONSE = 0x41000;
    static final long EVENTS = 0x42000;
    static final long DATA = 0x80000;
    static final int CMD_LENGTH = ScsiDescriptor.CMD_CDB_OFFSET + VirtioScsi.VIRTIO_SCSI_CDB_DEFAULT_SIZE;
    static final Duration WAIT = Duration.ofSeconds(10);
    static final int RESP_LENGTH = ScsiDescriptor.RESP_SENSE_OFFSET + VirtioScsi.VIRTIO_SCSI_SENSE_DEFAULT_SIZE;

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    SimHba a;
    SimHba b;
    ScsiBackendDevice scsi;
    final int[] kicks = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
    final int[] calls = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};

    @BeforeEach
    void start() throws Exception
    {
        final SimTarget[] targets = {new SimTarget(new SimLun(new SharedBlockStore(2048), new AtomicLong(), "E2E", 1))};
        final SystemNanoClock clock = new SystemNanoClock();
        a = new SimHba("a", clock, targets, 1, 32, 10_000);
        b = new SimHba("b", clock, targets, 1, 32, 10_000);
        final List<ScsiCard> cards = List.of(a, b);
        scsi = new ScsiBackendDevice(cards, 1, 256, 1);
        rig.serve(scsi, "scsi.sock");
    }

    @AfterEach
    void stop() throws Exception
    {
        rig.close();
        for (int q = 0; q < 3; q++)
        {
            Libc.close(kicks[q]);
            Libc.close(calls[q]);
        }
    }

    private final RingLayout[] layouts = {
        RingLayout.split(CONTROL_RING, QUEUE_SIZE, 4), RingLayout.split(EVENT_RING, QUEUE_SIZE, 4),
        RingLayout.split(REQUEST_RING, QUEUE_SIZE, 4)};

    /** QEMU 7.2's vhost_dev_init and vhost_dev_start for vhost-user-scsi-pci, num_queues=1. */
    private void qemuSetup(final TestFrontEnd fe) throws Exception
    {
        fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
        final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
        assertTrue((features & (1L << VirtioScsi.VIRTIO_SCSI_F_CHANGE)) != 0, "CHANGE offered (QEMU passes param_change)");
        assertEquals(0, features & (1L << VirtioScsi.VIRTIO_SCSI_F_HOTPLUG), "no HOTPLUG");
        assertEquals(0, features & (1L << VirtioScsi.VIRTIO_SCSI_F_INOUT), "no INOUT");
        fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES));
        assertEquals(3, fe.getU64(VhostUserRequest.GET_QUEUE_NUM), "control, event, one request queue");
        fe.send(VhostUserRequest.GET_CONFIG, FLAGS_VERSION, TestFrontEnd.config(0, 36));
        final UnsafeBuffer config = fe.reply(VhostUserRequest.GET_CONFIG);
        final int at = HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET;
        assertEquals(1, config.getInt(at + ScsiDescriptor.CFG_NUM_QUEUES_OFFSET, LITTLE_ENDIAN), "num_queues");
        assertEquals(VirtioScsi.VIRTIO_SCSI_CDB_DEFAULT_SIZE, config.getInt(at + ScsiDescriptor.CFG_CDB_SIZE_OFFSET, LITTLE_ENDIAN));
        fe.setU64(VhostUserRequest.SET_FEATURES, features & ~(1L << VirtioFeatures.EVENT_IDX));
        assertEquals(0, fe.acked(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd));
        for (int q = 0; q < 3; q++)
        {
            BlkEndToEndTest.ringSetup(fe, q, layouts[q], kicks[q], calls[q]);
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(q, 1));
        }
        fe.getU64(VhostUserRequest.GET_QUEUE_NUM); // a round trip: the device is started
    }

    @Test
    void commandsBadInputAndTmfsGetTheSpecsAnswers() throws Exception
    {
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            qemuSetup(fe);
            final SplitDriverQueue control = new SplitDriverQueue(fe.memory, layouts[0], false);
            final SplitDriverQueue events = new SplitDriverQueue(fe.memory, layouts[1], false);
            final SplitDriverQueue request = new SplitDriverQueue(fe.memory, layouts[2], false);
            for (int i = 0; i < 4; i++)
            {
                assertTrue(events.addBuffer(EVENTS + i * 16L, 16, true) >= 0);
            }
            publish(events, 1);

            // INQUIRY to target 0 LUN 0: GOOD, the emulator's vendor id.
            final byte[] inquiry = new byte[6];
            inquiry[0] = 0x12;
            inquiry[4] = 36;
            assertEquals(36, command(fe, request, lun(0, 0), inquiry, CMD_LENGTH, 36), "used length: response + data");
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, response(fe));
            assertEquals(0, fe.memory.getByte(RESPONSE + ScsiDescriptor.RESP_STATUS_OFFSET));
            final byte[] vendor = new byte[8];
            fe.memory.getBytes(DATA + 8, vendor, 0, 8);
            assertEquals("BRAID   ", new String(vendor, StandardCharsets.US_ASCII));

            // Target 5 (beyond max_target 0), and a LUN field not in the 1/target/LUN form: BAD_TARGET.
            command(fe, request, lun(5, 0), inquiry, CMD_LENGTH, 36);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_BAD_TARGET, response(fe));
            final byte[] badLun = lun(0, 0);
            badLun[0] = 2;
            command(fe, request, badLun, inquiry, CMD_LENGTH, 36);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_BAD_TARGET, response(fe));

            // A request shorter than its header: FAILURE, no card sees it.
            final long before = a.commandsSubmitted() + b.commandsSubmitted();
            command(fe, request, lun(0, 0), inquiry, 20, 36);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_FAILURE, response(fe));
            assertEquals(before, a.commandsSubmitted() + b.commandsSubmitted(), "never reached an HBA");

            // No room for the response: used length 0, nothing written.
            fe.memory.putBytes(RESPONSE, new byte[RESP_LENGTH], 0, RESP_LENGTH);
            assertTrue(request.addChain(new BufferChain(2).readable(HEADER, CMD_LENGTH).writable(RESPONSE, 4), false) >= 0);
            publish(request, 2);
            assertEquals(0, awaitUsed(request), "used length 0 without a response structure");

            // READ(10) past the end of the 2048-block LUN: CHECK CONDITION, ILLEGAL REQUEST / LBA OUT OF RANGE.
            final byte[] read = {0x28, 0, 0, 0, 0x08, 0, 0, 0, 1, 0};
            command(fe, request, lun(0, 0), read, CMD_LENGTH, 512);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, response(fe));
            assertEquals(2, fe.memory.getByte(RESPONSE + ScsiDescriptor.RESP_STATUS_OFFSET), "CHECK CONDITION");
            assertEquals(18, fe.memory.getInt(RESPONSE + ScsiDescriptor.RESP_SENSE_LEN_OFFSET));
            assertEquals(0x5, fe.memory.getByte(RESPONSE + ScsiDescriptor.RESP_SENSE_OFFSET + 2) & 0x0F, "sense key");
            assertEquals(0x21, fe.memory.getByte(RESPONSE + ScsiDescriptor.RESP_SENSE_OFFSET + 12) & 0xFF, "ASC");

            // TMFs on the control queue: LUN reset of LUN 0 completes on the HBAs; an unknown subtype
            // is rejected; a control request of unknown type gets used length 0.
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, tmf(fe, control, VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun(0, 0)));
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, tmf(fe, control, VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK, lun(0, 0)),
                "ABORT TASK of a task that does not exist: FUNCTION COMPLETE");
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED, tmf(fe, control, 99, lun(0, 0)));
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED,
                tmf(fe, control, VirtioScsi.VIRTIO_SCSI_T_TMF_CLEAR_ACA, lun(0, 0)), "no ACA");
            fe.memory.putInt(HEADER, 77);
            assertTrue(control.addChain(new BufferChain(2).readable(HEADER, ScsiDescriptor.TMF_REQ_LENGTH)
                .writable(RESPONSE, 1), false) >= 0);
            publish(control, 0);
            assertEquals(0, awaitUsed(control), "unknown control type: used length 0");

            // Still serving after all of it.
            assertEquals(36, command(fe, request, lun(0, 0), inquiry, CMD_LENGTH, 36));
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, response(fe));

            // QEMU's stop: the event ring's base is where the device's held buffers start, so a
            // restarted device pops them again; the request ring's counts every chain popped.
            for (int q = 0; q < 3; q++)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(q, 0));
            }
            assertEquals(5, base(fe, 0), "control: five requests");
            assertEquals(0, base(fe, 1), "event: four buffers held, none used, all given back");
            assertEquals(7, base(fe, 2), "request: seven chains");
        }
        rig.awaitServed(1);
        // No start refused on the way up: control and event alone do not start the device.
        rig.assertLogClean();
    }

    /**
     * One agent thread: idle with nothing in flight, it sleeps in epoll on the kick fds of all three
     * rings (as blk's, see BlkEndToEndTest), and a kick on the request ring, then one on the
     * control ring, wakes it. The device stops with the connection, and the waiter with it.
     */
    @Test
    void theIdleAgentThreadSleepsOnTheKickFdsAndAKickWakesIt() throws Exception
    {
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            qemuSetup(fe);
            final SplitDriverQueue control = new SplitDriverQueue(fe.memory, layouts[0], false);
            final SplitDriverQueue request = new SplitDriverQueue(fe.memory, layouts[2], false);
            final KickWaiter waiter = scsi.kickWaiter();
            assertNotNull(waiter, "one agent thread: the kick waiter is its idle strategy");
            assertTrue(waiter.canSleep(), "every ring has a kick fd");
            Waits.assertWithin(WAIT, () -> waiter.sleeps() > 0, "the idle agent thread went to sleep");
            Thread.sleep(20);
            final byte[] inquiry = new byte[6];
            inquiry[0] = 0x12;
            inquiry[4] = 36;
            assertEquals(36, command(fe, request, lun(0, 0), inquiry, CMD_LENGTH, 36));
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, response(fe));
            Waits.assertWithin(WAIT, () -> waiter.kickWakes() >= 1, "a kick on the request ring woke it");

            final long sleeps = waiter.sleeps();
            Waits.assertWithin(WAIT, () -> waiter.sleeps() > sleeps, "asleep again");
            Thread.sleep(20);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, tmf(fe, control, VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun(0, 0)));
            Waits.assertWithin(WAIT, () -> waiter.kickWakes() >= 2, "a kick on the control ring woke it");
        }
        rig.awaitServed(1);
        assertNull(scsi.kickWaiter(), "the connection ended: device and waiter stopped");
    }

    /** Publishes and, as a driver does, kicks ring {@code q} when the device asks for it. */
    private void publish(final SplitDriverQueue queue, final int q)
    {
        queue.publish();
        if (queue.needsKick())
        {
            BlkEndToEndTest.kick(kicks[q]);
        }
    }

    private int base(final TestFrontEnd fe, final int q) throws Exception
    {
        fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(q, 0));
        return fe.reply(VhostUserRequest.GET_VRING_BASE).getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN);
    }

    static byte[] lun(final int target, final int lun)
    {
        return new byte[]{1, (byte)target, (byte)(0x40 | lun >>> 8), (byte)lun, 0, 0, 0, 0};
    }

    /** One command: header (cmdLength readable bytes), response, data-in; returns the used length minus the response. */
    private int command(final TestFrontEnd fe, final SplitDriverQueue request, final byte[] lun, final byte[] cdb,
        final int cmdLength, final int dataIn) throws Exception
    {
        final byte[] header = new byte[CMD_LENGTH];
        System.arraycopy(lun, 0, header, 0, 8);
        header[ScsiDescriptor.CMD_ID_OFFSET] = 42;
        System.arraycopy(cdb, 0, header, ScsiDescriptor.CMD_CDB_OFFSET, cdb.length);
        fe.memory.putBytes(HEADER, header, 0, header.length);
        final byte[] poison = new byte[RESP_LENGTH];
        java.util.Arrays.fill(poison, (byte)0xEE);
        fe.memory.putBytes(RESPONSE, poison, 0, poison.length);
        assertTrue(request.addChain(new BufferChain(3).readable(HEADER, cmdLength).writable(RESPONSE, RESP_LENGTH)
            .writable(DATA, dataIn), false) >= 0);
        publish(request, 2);
        return awaitUsed(request) - RESP_LENGTH;
    }

    private static int response(final TestFrontEnd fe)
    {
        return fe.memory.getByte(RESPONSE + ScsiDescriptor.RESP_RESPONSE_OFFSET) & 0xFF;
    }

    private int tmf(final TestFrontEnd fe, final SplitDriverQueue control, final int subtype, final byte[] lun)
        throws Exception
    {
        fe.memory.putInt(HEADER + ScsiDescriptor.TMF_TYPE_OFFSET, VirtioScsi.VIRTIO_SCSI_T_TMF);
        fe.memory.putInt(HEADER + ScsiDescriptor.TMF_SUBTYPE_OFFSET, subtype);
        fe.memory.putBytes(HEADER + ScsiDescriptor.TMF_LUN_OFFSET, lun, 0, 8);
        fe.memory.putLong(HEADER + ScsiDescriptor.TMF_ID_OFFSET, 4242);
        fe.memory.putByte(RESPONSE, (byte)0xEE);
        assertTrue(control.addChain(new BufferChain(2).readable(HEADER, ScsiDescriptor.TMF_REQ_LENGTH)
            .writable(RESPONSE, ScsiDescriptor.TMF_RESP_LENGTH), false) >= 0);
        publish(control, 0);
        assertEquals(ScsiDescriptor.TMF_RESP_LENGTH, awaitUsed(control));
        return fe.memory.getByte(RESPONSE) & 0xFF;
    }

    private static int awaitUsed(final SplitDriverQueue queue) throws InterruptedException
    {
        final int[] length = {-1};
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (queue.reap((id, len) -> length[0] = len) == 0)
        {
            assertTrue(System.nanoTime() < deadline, "no used element in 10 s");
            Thread.sleep(1);
        }
        return length[0];
    }
}
