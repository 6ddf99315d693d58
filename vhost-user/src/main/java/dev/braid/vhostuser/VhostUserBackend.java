package dev.braid.vhostuser;

import dev.braid.virtio.memory.GuestMemory;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * The back end's half of the vhost-user protocol for one connection: it validates each message
 * (exact payload size and fd count per request), applies it to the ring states and the memory
 * table, and says what to answer. It owns every fd handed to {@link #onMessage} from then on:
 * it keeps the ones it needs and closes the rest before returning.
 *
 * <p>Errors a front end made in framing (a wrong size for the request, too many or too few fds, a
 * bad version) close the connection; errors in content (a bad index, an overlapping region, a ring
 * outside memory) get a REPLY_ACK error when the front end asked for a reply (NEED_REPLY), and are
 * otherwise refused with a one-line log. Unknown requests: an error reply if NEED_REPLY, else
 * ignored with a log. Control thread only (the socket server's).
 *
 * <p>Rings: stopped until SET_VRING_KICK (as libvhost-user: the ring starts with its kick fd, not
 * with the first kick), stopped again by GET_VRING_BASE; enabled from the start unless feature bit
 * 30 was negotiated, then only by SET_VRING_ENABLE(1). The device runs rings 0..k-1 where k counts
 * the leading started-and-enabled rings; {@link #settle} (re)starts it when that set changed.
 */
public final class VhostUserBackend implements AutoCloseable
{
    /** {@link #onMessage} result: no reply to send. */
    public static final int NO_REPLY = 0;
    /** {@link #onMessage} result: close the connection. */
    public static final int CLOSE = -1;

    private static final long PROTOCOL_BIT = 1L << F_PROTOCOL_FEATURES;

    private final BackendDevice device;
    private final MemoryTable table;
    private final Consumer<String> log;
    private final Vring[] rings;
    private final int[] retiredFds = new int[64];
    private int retiredCount;

    private final long[] regionGpa = new long[TABLE_MAX_REGIONS];
    private final long[] regionSize = new long[TABLE_MAX_REGIONS];
    private final long[] regionUva = new long[TABLE_MAX_REGIONS];
    private final long[] regionOffset = new long[TABLE_MAX_REGIONS];

    private final int[] sizes;
    private final long[] desc;
    private final long[] avail;
    private final long[] used;
    private final int[] bases;
    private final int[] kicks;
    private final UnsafeBuffer callValue;

    private long ackedFeatures;
    private long protocolFeatures;
    private boolean owner;
    private boolean changed;
    private int runningCount;

    public VhostUserBackend(final BackendDevice device, final int maxMemorySlots, final Consumer<String> log)
    {
        this.device = device;
        this.table = new MemoryTable(maxMemorySlots);
        this.log = log;
        final int n = device.maxQueues();
        rings = new Vring[n];
        for (int i = 0; i < n; i++)
        {
            rings[i] = new Vring(i);
        }
        sizes = new int[n];
        desc = new long[n];
        avail = new long[n];
        used = new long[n];
        bases = new int[n];
        kicks = new int[n];
        final ByteBuffer eight = BufferUtil.allocateDirectAligned(8, 8);
        callValue = new UnsafeBuffer(eight);
        callValue.putLong(0, 1L, LITTLE_ENDIAN);
    }

    /** The features this back end offers in GET_FEATURES: the device's plus bit 30. */
    public long offeredFeatures()
    {
        return device.features() | PROTOCOL_BIT;
    }

    /** The protocol features the front end acked (SET_PROTOCOL_FEATURES), 0 before. */
    public long protocolFeatures()
    {
        return protocolFeatures;
    }

    /** Whether SET_OWNER was received on this connection. */
    public boolean hasOwner()
    {
        return owner;
    }

    public MemoryTable memoryTable()
    {
        return table;
    }

    public boolean isDeviceRunning()
    {
        return device.isRunning();
    }

    /** For tests: the spec state of ring {@code i}: 0 stopped, 1 started and disabled, 2 started and enabled. */
    public int ringState(final int i)
    {
        return !rings[i].started ? 0 : rings[i].enabled ? 2 : 1;
    }

    /**
     * Handles one message: {@code length} bytes of {@code message} (header and payload), with
     * {@code fdCount} fds which this back end now owns. Writes any reply into {@code reply}.
     *
     * @return the reply's length, {@link #NO_REPLY}, or {@link #CLOSE}.
     */
    public int onMessage(final DirectBuffer message, final int length, final int[] fds, final int fdCount,
        final MutableDirectBuffer reply)
    {
        if (length < HEADER_LENGTH)
        {
            closeAll(fds, 0, fdCount);
            log.accept("vhost-user: message of " + length + " bytes is shorter than a header; closing");
            return CLOSE;
        }
        final int request = message.getInt(HEADER_REQUEST_OFFSET, LITTLE_ENDIAN);
        final int flags = message.getInt(HEADER_FLAGS_OFFSET, LITTLE_ENDIAN);
        final int size = message.getInt(HEADER_SIZE_OFFSET, LITTLE_ENDIAN);
        final String name = VhostUserRequest.name(request);
        if ((flags & FLAGS_VERSION_MASK) != FLAGS_VERSION || (flags & FLAGS_REPLY) != 0)
        {
            closeAll(fds, 0, fdCount);
            log.accept("vhost-user: " + name + " with flags 0x" + Integer.toHexString(flags) + " (version 1 request expected); closing");
            return CLOSE;
        }
        if (size < 0 || size > MAX_PAYLOAD || size != length - HEADER_LENGTH)
        {
            closeAll(fds, 0, fdCount);
            log.accept("vhost-user: " + name + " payload size " + Integer.toUnsignedString(size) + " (max " + MAX_PAYLOAD + "); closing");
            return CLOSE;
        }
        final String framing = checkFraming(request, message, size, fdCount);
        if (framing != null)
        {
            closeAll(fds, 0, fdCount);
            log.accept("vhost-user: " + name + ": " + framing + "; closing");
            return CLOSE;
        }
        final boolean needReply = (flags & FLAGS_NEED_REPLY) != 0;
        final int p = HEADER_LENGTH;
        String problem = null;
        switch (request)
        {
            case VhostUserRequest.GET_FEATURES:
                return replyU64(reply, request, offeredFeatures());
            case VhostUserRequest.GET_PROTOCOL_FEATURES:
                return replyU64(reply, request, device.protocolFeatures());
            case VhostUserRequest.GET_QUEUE_NUM:
                return replyU64(reply, request, device.queueNum());
            case VhostUserRequest.GET_MAX_MEM_SLOTS:
                return replyU64(reply, request, table.maxSlots());
            case VhostUserRequest.GET_CONFIG:
                return getConfig(message, p, reply);
            case VhostUserRequest.GET_VRING_BASE:
                return getVringBase(message.getInt(p + STATE_INDEX_OFFSET, LITTLE_ENDIAN), reply);
            case VhostUserRequest.SET_FEATURES:
                problem = setFeatures(message.getLong(p, LITTLE_ENDIAN));
                break;
            case VhostUserRequest.SET_PROTOCOL_FEATURES:
                problem = setProtocolFeatures(message.getLong(p, LITTLE_ENDIAN));
                break;
            case VhostUserRequest.SET_OWNER:
                owner = true;
                break;
            case VhostUserRequest.RESET_OWNER:
            case VhostUserRequest.RESET_DEVICE:
                resetRings();
                break;
            case VhostUserRequest.SET_MEM_TABLE:
                problem = setMemTable(message, p, fds);
                break;
            case VhostUserRequest.ADD_MEM_REG:
                problem = addMemReg(message, p + SINGLE_REGION_OFFSET, fds[0]);
                break;
            case VhostUserRequest.REM_MEM_REG:
                problem = remMemReg(message, p + SINGLE_REGION_OFFSET);
                break;
            case VhostUserRequest.SET_VRING_NUM:
                problem = setVringNum(message.getInt(p, LITTLE_ENDIAN), message.getInt(p + STATE_NUM_OFFSET, LITTLE_ENDIAN));
                break;
            case VhostUserRequest.SET_VRING_BASE:
                problem = setVringBase(message.getInt(p, LITTLE_ENDIAN), message.getInt(p + STATE_NUM_OFFSET, LITTLE_ENDIAN));
                break;
            case VhostUserRequest.SET_VRING_ADDR:
                problem = setVringAddr(message, p);
                break;
            case VhostUserRequest.SET_VRING_KICK:
            case VhostUserRequest.SET_VRING_CALL:
            case VhostUserRequest.SET_VRING_ERR:
                problem = setVringFd(request, message.getLong(p, LITTLE_ENDIAN), fdCount == 1 ? fds[0] : Vring.NO_FD);
                if (problem == null)
                {
                    keepFd(fds);
                }
                break;
            case VhostUserRequest.SET_VRING_ENABLE:
                problem = setVringEnable(message.getInt(p, LITTLE_ENDIAN), message.getInt(p + STATE_NUM_OFFSET, LITTLE_ENDIAN));
                break;
            case VhostUserRequest.SET_CONFIG:
                problem = "config space is read-only";
                break;
            case VhostUserRequest.SET_SLAVE_REQ_FD:
                // Not offered (no back-end requests are sent yet): accepted and closed below.
                break;
            default:
                log.accept("vhost-user: unsupported request " + name + " (" + size + " bytes, " + fdCount + " fds) " +
                    (needReply ? "refused" : "ignored"));
                closeAll(fds, 0, fdCount);
                return needReply ? replyU64(reply, request, 1) : NO_REPLY;
        }
        closeAll(fds, 0, fdCount);
        if (problem != null)
        {
            log.accept("vhost-user: " + name + " refused: " + problem);
        }
        return needReply ? replyU64(reply, request, problem == null ? 0 : 1) : NO_REPLY;
    }

    /**
     * Brings the device in line with the ring states: stops it when its ring set changed, starts it
     * over the leading started-and-enabled rings. The server calls it when no message is pending;
     * GET_VRING_BASE calls it first. Idempotent.
     */
    public void settle()
    {
        if (!changed)
        {
            return;
        }
        changed = false;
        int k = 0;
        while (k < rings.length && rings[k].started && rings[k].enabled)
        {
            k++;
        }
        k = device.usableRings(k);
        if (device.isRunning())
        {
            stopDevice();
        }
        if (k == 0 || k < device.minRings() || table.memory() == null)
        {
            // Nothing to serve yet (scsi: control and event started, the request rings still coming).
            return;
        }
        final GuestMemory memory = table.memory();
        for (int q = 0; q < k; q++)
        {
            final Vring ring = rings[q];
            final int num = ring.num;
            sizes[q] = num;
            bases[q] = ring.base;
            desc[q] = table.userToGuestPhysical(ring.descUser, Vring.descLength(num));
            avail[q] = table.userToGuestPhysical(ring.availUser, Vring.availLength(num));
            used[q] = table.userToGuestPhysical(ring.usedUser, Vring.usedLength(num));
            kicks[q] = ring.kickFd;
            if (num == 0 || !ring.addressed || desc[q] < 0 || avail[q] < 0 || used[q] < 0)
            {
                log.accept("vhost-user: ring " + q + " not started: " + (num == 0 ? "no size" :
                    !ring.addressed ? "no address" : "rings outside guest memory"));
                return;
            }
        }
        device.kickFds(kicks, k);
        final String problem = device.start(memory, ackedFeatures & ~PROTOCOL_BIT, k, sizes, desc, avail, used,
            bases, this::call);
        if (problem != null)
        {
            log.accept("vhost-user: device not started: " + problem);
            return;
        }
        runningCount = k;
        for (int q = 0; q < k; q++)
        {
            // An interrupt may have been lost across the restart: the guest rechecks its used ring.
            call(q);
        }
    }

    /** The front end left: stop the device, close every fd, unmap all memory, forget all state. */
    public void disconnect()
    {
        stopDevice();
        for (final Vring ring : rings)
        {
            resetRing(ring);
        }
        closeRetired();
        table.unmapAll();
        ackedFeatures = 0;
        protocolFeatures = 0;
        owner = false;
        changed = false;
    }

    public void close()
    {
        disconnect();
        device.close();
    }

    // ---------------------------------------------------------------- per request

    /** Exact payload sizes and fd counts; null when the message is well framed. */
    private String checkFraming(final int request, final DirectBuffer message, final int size, final int fdCount)
    {
        int expectedSize = -1;
        int minFds = 0;
        int maxFds = 0;
        switch (request)
        {
            case VhostUserRequest.GET_FEATURES:
            case VhostUserRequest.GET_PROTOCOL_FEATURES:
            case VhostUserRequest.GET_QUEUE_NUM:
            case VhostUserRequest.GET_MAX_MEM_SLOTS:
            case VhostUserRequest.SET_OWNER:
            case VhostUserRequest.RESET_OWNER:
            case VhostUserRequest.RESET_DEVICE:
                expectedSize = 0;
                break;
            case VhostUserRequest.SET_FEATURES:
            case VhostUserRequest.SET_PROTOCOL_FEATURES:
                expectedSize = U64_LENGTH;
                break;
            case VhostUserRequest.SET_VRING_NUM:
            case VhostUserRequest.SET_VRING_BASE:
            case VhostUserRequest.GET_VRING_BASE:
            case VhostUserRequest.SET_VRING_ENABLE:
                expectedSize = STATE_LENGTH;
                break;
            case VhostUserRequest.SET_VRING_ADDR:
                expectedSize = ADDR_LENGTH;
                break;
            case VhostUserRequest.SET_VRING_KICK:
            case VhostUserRequest.SET_VRING_CALL:
            case VhostUserRequest.SET_VRING_ERR:
                expectedSize = U64_LENGTH;
                if (size == U64_LENGTH)
                {
                    final boolean noFd = (message.getLong(HEADER_LENGTH, LITTLE_ENDIAN) & VRING_NOFD_MASK) != 0;
                    minFds = noFd ? 0 : 1;
                    maxFds = minFds;
                }
                break;
            case VhostUserRequest.SET_MEM_TABLE:
                if (size < TABLE_REGIONS_OFFSET)
                {
                    return "payload " + size + " bytes, at least " + TABLE_REGIONS_OFFSET + " expected";
                }
                final int n = message.getInt(HEADER_LENGTH + TABLE_COUNT_OFFSET, LITTLE_ENDIAN);
                if (n < 0 || n > TABLE_MAX_REGIONS)
                {
                    return Integer.toUnsignedString(n) + " regions, at most " + TABLE_MAX_REGIONS;
                }
                expectedSize = TABLE_REGIONS_OFFSET + n * REGION_LENGTH;
                minFds = n;
                maxFds = n;
                break;
            case VhostUserRequest.ADD_MEM_REG:
                expectedSize = SINGLE_REGION_LENGTH;
                minFds = 1;
                maxFds = 1;
                break;
            case VhostUserRequest.REM_MEM_REG:
                expectedSize = SINGLE_REGION_LENGTH;
                maxFds = 1; // QEMU sends the region's fd again; it is closed
                break;
            case VhostUserRequest.GET_CONFIG:
            case VhostUserRequest.SET_CONFIG:
                if (size < CONFIG_PAYLOAD_OFFSET)
                {
                    return "payload " + size + " bytes, at least " + CONFIG_PAYLOAD_OFFSET + " expected";
                }
                final int configSize = message.getInt(HEADER_LENGTH + CONFIG_SIZE_OFFSET, LITTLE_ENDIAN);
                if (configSize < 0 || configSize > CONFIG_MAX_PAYLOAD)
                {
                    return "config size " + Integer.toUnsignedString(configSize) + " (max " + CONFIG_MAX_PAYLOAD + ")";
                }
                expectedSize = CONFIG_PAYLOAD_OFFSET + configSize;
                break;
            case VhostUserRequest.SET_SLAVE_REQ_FD:
                expectedSize = 0;
                minFds = 1;
                maxFds = 1;
                break;
            default:
                return null; // unknown: refused or ignored by the caller
        }
        if (size != expectedSize)
        {
            return "payload " + size + " bytes, " + expectedSize + " expected";
        }
        if (fdCount < minFds || fdCount > maxFds)
        {
            return fdCount + " fds, " + (minFds == maxFds ? String.valueOf(minFds) : minFds + ".." + maxFds) + " expected";
        }
        return null;
    }

    private String setFeatures(final long features)
    {
        final long unoffered = features & ~offeredFeatures();
        if (unoffered != 0)
        {
            return "features 0x" + Long.toHexString(unoffered) + " were not offered";
        }
        if (device.isRunning() && features != ackedFeatures)
        {
            changed = true; // restart with the new features; never disables a ring
        }
        ackedFeatures = features;
        return null;
    }

    private String setProtocolFeatures(final long features)
    {
        final long unoffered = features & ~device.protocolFeatures();
        if (unoffered != 0)
        {
            return "protocol features 0x" + Long.toHexString(unoffered) + " were not offered";
        }
        protocolFeatures = features;
        return null;
    }

    private String setMemTable(final DirectBuffer message, final int p, final int[] fds)
    {
        final int n = message.getInt(p + TABLE_COUNT_OFFSET, LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            final int r = p + TABLE_REGIONS_OFFSET + i * REGION_LENGTH;
            regionGpa[i] = message.getLong(r + REGION_GPA_OFFSET, LITTLE_ENDIAN);
            regionSize[i] = message.getLong(r + REGION_SIZE_OFFSET, LITTLE_ENDIAN);
            regionUva[i] = message.getLong(r + REGION_UVA_OFFSET, LITTLE_ENDIAN);
            regionOffset[i] = message.getLong(r + REGION_MMAP_OFFSET_OFFSET, LITTLE_ENDIAN);
        }
        // The device must not touch memory that is about to be unmapped.
        stopDevice();
        changed = true;
        if (n == 0)
        {
            table.unmapAll();
            return null;
        }
        return table.replace(n, regionGpa, regionSize, regionUva, regionOffset, fds);
    }

    private String addMemReg(final DirectBuffer message, final int r, final int fd)
    {
        final long g = message.getLong(r + REGION_GPA_OFFSET, LITTLE_ENDIAN);
        final long s = message.getLong(r + REGION_SIZE_OFFSET, LITTLE_ENDIAN);
        final long u = message.getLong(r + REGION_UVA_OFFSET, LITTLE_ENDIAN);
        final long o = message.getLong(r + REGION_MMAP_OFFSET_OFFSET, LITTLE_ENDIAN);
        if (table.references(g, s, u, o) > 0)
        {
            return table.add(g, s, u, o, fd); // a copy (another queue pair's vhost device): memory unchanged
        }
        stopDevice();
        changed = true;
        return table.add(g, s, u, o, fd);
    }

    private String remMemReg(final DirectBuffer message, final int r)
    {
        final long g = message.getLong(r + REGION_GPA_OFFSET, LITTLE_ENDIAN);
        final long s = message.getLong(r + REGION_SIZE_OFFSET, LITTLE_ENDIAN);
        final long u = message.getLong(r + REGION_UVA_OFFSET, LITTLE_ENDIAN);
        if (table.references(g, s, u) > 1)
        {
            return table.remove(g, s, u); // drops one copy; the mapping stays
        }
        stopDevice();
        changed = true;
        return table.remove(message.getLong(r + REGION_GPA_OFFSET, LITTLE_ENDIAN),
            message.getLong(r + REGION_SIZE_OFFSET, LITTLE_ENDIAN),
            message.getLong(r + REGION_UVA_OFFSET, LITTLE_ENDIAN));
    }

    private String checkIndex(final int index)
    {
        return index < 0 || index >= rings.length ?
            "ring index " + Integer.toUnsignedString(index) + " (device has " + rings.length + ")" : null;
    }

    private String setVringNum(final int index, final int num)
    {
        final String bad = checkIndex(index);
        if (bad != null)
        {
            return bad;
        }
        if (num < 1 || num > device.maxQueueSize() || Integer.bitCount(num) != 1)
        {
            return "ring " + index + " size " + Integer.toUnsignedString(num) + " (power of two up to " + device.maxQueueSize() + ")";
        }
        rings[index].num = num;
        changed = true;
        return null;
    }

    private String setVringBase(final int index, final int base)
    {
        final String bad = checkIndex(index);
        if (bad != null)
        {
            return bad;
        }
        if (base < 0 || base > 0xFFFF)
        {
            return "ring " + index + " base " + Integer.toUnsignedString(base) + " (split rings: 0..65535)";
        }
        rings[index].base = base;
        changed = true;
        return null;
    }

    private String setVringAddr(final DirectBuffer message, final int p)
    {
        final int index = message.getInt(p + ADDR_INDEX_OFFSET, LITTLE_ENDIAN);
        final String bad = checkIndex(index);
        if (bad != null)
        {
            return bad;
        }
        final int flags = message.getInt(p + ADDR_FLAGS_OFFSET, LITTLE_ENDIAN);
        if (flags != 0)
        {
            return "ring " + index + " flags 0x" + Integer.toHexString(flags) + " (dirty logging is not offered)";
        }
        final long d = message.getLong(p + ADDR_DESC_OFFSET, LITTLE_ENDIAN);
        final long u = message.getLong(p + ADDR_USED_OFFSET, LITTLE_ENDIAN);
        final long a = message.getLong(p + ADDR_AVAIL_OFFSET, LITTLE_ENDIAN);
        final int num = Math.max(rings[index].num, 1);
        if (table.memory() == null)
        {
            return "ring " + index + " addressed before SET_MEM_TABLE";
        }
        if (table.userToGuestPhysical(d, Vring.descLength(num)) < 0 ||
            table.userToGuestPhysical(a, Vring.availLength(num)) < 0 ||
            table.userToGuestPhysical(u, Vring.usedLength(num)) < 0)
        {
            return "ring " + index + " desc 0x" + Long.toHexString(d) + " avail 0x" + Long.toHexString(a) +
                " used 0x" + Long.toHexString(u) + " outside guest memory";
        }
        if ((d & 15) != 0 || (a & 1) != 0 || (u & 3) != 0)
        {
            return "ring " + index + " addresses misaligned";
        }
        final Vring ring = rings[index];
        ring.descUser = d;
        ring.usedUser = u;
        ring.availUser = a;
        ring.addrFlags = flags;
        ring.addressed = true;
        changed = true;
        return null;
    }

    /** On success the fd (if any) belongs to the ring; the caller must not close it. */
    private String setVringFd(final int request, final long value, final int fd)
    {
        if ((value & ~(VRING_INDEX_MASK | VRING_NOFD_MASK)) != 0)
        {
            return "value 0x" + Long.toHexString(value) + " has bits beyond index and no-fd flag";
        }
        final int index = (int)(value & VRING_INDEX_MASK);
        final String bad = checkIndex(index);
        if (bad != null)
        {
            return bad;
        }
        final Vring ring = rings[index];
        switch (request)
        {
            case VhostUserRequest.SET_VRING_KICK:
                if (device.isRunning() && index < runningCount)
                {
                    // The running device may be waiting on the old fd: restart it on the new one.
                    stopDevice();
                }
                closeFd(ring.kickFd);
                ring.kickFd = fd;
                if (!ring.started)
                {
                    ring.started = true;
                    // Without bit 30 a ring is enabled as soon as it starts.
                    ring.enabled = ring.enabled || (ackedFeatures & PROTOCOL_BIT) == 0;
                    changed = true;
                }
                break;
            case VhostUserRequest.SET_VRING_CALL:
                // Agents may be writing the old fd right now: it is closed when the device stops.
                retire(ring.callFd);
                ring.callFd = fd;
                if (device.isRunning() && index < runningCount)
                {
                    // As libvhost-user: an interrupt sent to the old fd may have been lost.
                    call(index);
                }
                break;
            default:
                closeFd(ring.errFd);
                ring.errFd = fd;
                break;
        }
        return null;
    }

    private String setVringEnable(final int index, final int enable)
    {
        final String bad = checkIndex(index);
        if (bad != null)
        {
            return bad;
        }
        if (enable != 0 && enable != 1)
        {
            return "ring " + index + " enable " + Integer.toUnsignedString(enable);
        }
        if (rings[index].enabled != (enable == 1))
        {
            rings[index].enabled = enable == 1;
            changed = true;
        }
        return null;
    }

    private int getVringBase(final int index, final MutableDirectBuffer reply)
    {
        final String bad = checkIndex(index);
        if (bad != null)
        {
            log.accept("vhost-user: GET_VRING_BASE: " + bad + "; closing");
            return CLOSE;
        }
        settle();
        final Vring ring = rings[index];
        if (device.isRunning() && index < runningCount)
        {
            stopDevice();
        }
        if (ring.started)
        {
            ring.started = false;
            changed = true;
        }
        closeFd(ring.kickFd);
        ring.kickFd = Vring.NO_FD;
        putHeader(reply, VhostUserRequest.GET_VRING_BASE, STATE_LENGTH);
        reply.putInt(HEADER_LENGTH + STATE_INDEX_OFFSET, index, LITTLE_ENDIAN);
        reply.putInt(HEADER_LENGTH + STATE_NUM_OFFSET, ring.base, LITTLE_ENDIAN);
        return HEADER_LENGTH + STATE_LENGTH;
    }

    private int getConfig(final DirectBuffer message, final int p, final MutableDirectBuffer reply)
    {
        int offset = message.getInt(p + CONFIG_OFFSET_OFFSET, LITTLE_ENDIAN);
        final int size = message.getInt(p + CONFIG_SIZE_OFFSET, LITTLE_ENDIAN);
        if (offset >= CONFIG_PCI_OFFSET && offset - CONFIG_PCI_OFFSET <= CONFIG_MAX_PAYLOAD)
        {
            offset -= CONFIG_PCI_OFFSET;
        }
        if (offset < 0 || offset + size > CONFIG_MAX_PAYLOAD)
        {
            log.accept("vhost-user: GET_CONFIG refused: offset 0x" + Integer.toHexString(offset) + " size " + size);
            putHeader(reply, VhostUserRequest.GET_CONFIG, 0);
            return HEADER_LENGTH;
        }
        putHeader(reply, VhostUserRequest.GET_CONFIG, CONFIG_PAYLOAD_OFFSET + size);
        reply.putInt(HEADER_LENGTH + CONFIG_OFFSET_OFFSET, message.getInt(p + CONFIG_OFFSET_OFFSET, LITTLE_ENDIAN), LITTLE_ENDIAN);
        reply.putInt(HEADER_LENGTH + CONFIG_SIZE_OFFSET, size, LITTLE_ENDIAN);
        reply.putInt(HEADER_LENGTH + CONFIG_FLAGS_OFFSET, message.getInt(p + CONFIG_FLAGS_OFFSET, LITTLE_ENDIAN), LITTLE_ENDIAN);
        for (int i = 0; i < size; i++)
        {
            reply.putByte(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + i, (byte)device.readConfigByte(offset + i));
        }
        return HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + size;
    }

    // ---------------------------------------------------------------- helpers

    private void stopDevice()
    {
        if (!device.isRunning())
        {
            return;
        }
        final int abandoned = device.stop(bases);
        for (int q = 0; q < runningCount; q++)
        {
            rings[q].base = bases[q];
        }
        if (abandoned > 0)
        {
            log.accept("vhost-user: device stopped with " + abandoned + " requests still in flight (abandoned)");
        }
        runningCount = 0;
        closeRetired();
        changed = true;
    }

    private void resetRings()
    {
        stopDevice();
        for (final Vring ring : rings)
        {
            resetRing(ring);
        }
        closeRetired();
        ackedFeatures = 0;
        changed = false;
    }

    private void resetRing(final Vring ring)
    {
        closeFd(ring.kickFd);
        closeFd(ring.callFd);
        closeFd(ring.errFd);
        ring.kickFd = Vring.NO_FD;
        ring.callFd = Vring.NO_FD;
        ring.errFd = Vring.NO_FD;
        ring.num = 0;
        ring.base = 0;
        ring.addressed = false;
        ring.started = false;
        ring.enabled = false;
        ring.descUser = 0;
        ring.usedUser = 0;
        ring.availUser = 0;
    }

    /** Interrupts the guest for ring q: an 8-byte write to its call eventfd. Agent threads; no allocation. */
    private void call(final int q)
    {
        final int fd = rings[q].callFd;
        if (fd >= 0)
        {
            Libc.write(fd, callValue.addressOffset(), 8);
        }
    }

    private void retire(final int fd)
    {
        if (fd < 0)
        {
            return;
        }
        if (!device.isRunning())
        {
            Libc.close(fd);
            return;
        }
        if (retiredCount == retiredFds.length)
        {
            // A front end swapping call fds this often is misbehaving: restart to free them.
            stopDevice();
            Libc.close(fd);
            return;
        }
        retiredFds[retiredCount++] = fd;
    }

    private void closeRetired()
    {
        for (int i = 0; i < retiredCount; i++)
        {
            Libc.close(retiredFds[i]);
        }
        retiredCount = 0;
    }

    private static void closeFd(final int fd)
    {
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    private static void keepFd(final int[] fds)
    {
        fds[0] = Vring.NO_FD; // kept by the ring
    }

    private static void closeAll(final int[] fds, final int from, final int count)
    {
        for (int i = from; i < count; i++)
        {
            if (fds[i] >= 0)
            {
                Libc.close(fds[i]);
                fds[i] = Vring.NO_FD;
            }
        }
    }

    private static void putHeader(final MutableDirectBuffer reply, final int request, final int size)
    {
        reply.putInt(HEADER_REQUEST_OFFSET, request, LITTLE_ENDIAN);
        reply.putInt(HEADER_FLAGS_OFFSET, FLAGS_VERSION | FLAGS_REPLY, LITTLE_ENDIAN);
        reply.putInt(HEADER_SIZE_OFFSET, size, LITTLE_ENDIAN);
    }

    private static int replyU64(final MutableDirectBuffer reply, final int request, final long value)
    {
        putHeader(reply, request, U64_LENGTH);
        reply.putLong(HEADER_LENGTH, value, LITTLE_ENDIAN);
        return HEADER_LENGTH + U64_LENGTH;
    }
}
