package dev.braid.vhostuser;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The message parser and the ring/memory state machine under arbitrary message sequences. Input:
 * records of [fd count byte (low 2 bits: 0..3 fds, bit 2: memfd instead of eventfd)][12-byte
 * header][payload of the header's size, cut at the end of input]. Every message must get a
 * well-formed reply, no reply, or CLOSE; nothing may throw; after the connection ends no fd and no
 * mapping of the fuzzer's memfd may be left.
 */
class VhostUserFuzzTest
{
    private static final long MEM = 1 << 20;
    private static final int MEM_FD = Libc.memfd_create("braid-fuzz", Libc.MFD_CLOEXEC);
    private static final UnsafeBuffer MESSAGE = new UnsafeBuffer(new byte[HEADER_LENGTH + 4096]);
    private static final UnsafeBuffer REPLY = new UnsafeBuffer(new byte[HEADER_LENGTH + MAX_PAYLOAD]);
    private static final int[] FDS = new int[3];

    static
    {
        Libc.ftruncate(MEM_FD, 4 * MEM);
    }

    private static long ourFds()
    {
        return ProcessResources.fdTargets().stream().filter(t -> t.contains("eventfd") || t.contains("memfd:braid-fuzz")).count();
    }

    @FuzzTest(maxDuration = "30s")
    void messages(final byte[] data) throws Exception
    {
        final long fdsBefore = ourFds();
        final FakeDevice device = new FakeDevice();
        final VhostUserBackend backend = new VhostUserBackend(device, 16, line -> { });
        int at = 0;
        while (at + 1 + HEADER_LENGTH <= data.length)
        {
            final int control = data[at++] & 0xFF;
            final int length = Math.min(HEADER_LENGTH + Math.max(0, new UnsafeBuffer(data).getInt(at + HEADER_SIZE_OFFSET, LITTLE_ENDIAN)),
                Math.min(data.length - at, MESSAGE.capacity()));
            MESSAGE.putBytes(0, data, at, length);
            if (length < HEADER_LENGTH + MESSAGE.getInt(HEADER_SIZE_OFFSET, LITTLE_ENDIAN))
            {
                // The input ran out mid-payload: the server would see a hang-up here; the back end never gets it.
                at = data.length;
                break;
            }
            at += length;
            final int fdCount = control & 3;
            for (int i = 0; i < fdCount; i++)
            {
                FDS[i] = (control & 4) != 0 ? Libc.dup(MEM_FD) : Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            }
            final int result = backend.onMessage(MESSAGE, length, FDS, fdCount, REPLY);
            if (result == VhostUserBackend.CLOSE)
            {
                break;
            }
            if (result > 0)
            {
                assertEquals(FLAGS_VERSION | FLAGS_REPLY, REPLY.getInt(HEADER_FLAGS_OFFSET, LITTLE_ENDIAN));
                assertEquals(MESSAGE.getInt(HEADER_REQUEST_OFFSET, LITTLE_ENDIAN), REPLY.getInt(HEADER_REQUEST_OFFSET, LITTLE_ENDIAN));
                assertEquals(result, HEADER_LENGTH + REPLY.getInt(HEADER_SIZE_OFFSET, LITTLE_ENDIAN));
            }
            else
            {
                assertEquals(VhostUserBackend.NO_REPLY, result);
            }
            backend.settle();
            assertTrue(device.runningCount >= 0 && device.runningCount <= device.maxQueues());
        }
        backend.close();
        assertEquals(0, ProcessResources.mappings("braid-fuzz"), "mappings left");
        // Only the kinds the back end is handed: the fuzzing engine itself opens files now and then.
        assertEquals(fdsBefore, ourFds(), "eventfds or memfds left: " + ProcessResources.fdTargets());
    }
}
