package dev.braid.cards.file;

/**
 * The io_uring ABI as Braid uses it: syscall numbers, the {@code io_uring_params} block that
 * {@code io_uring_setup} fills in, the submission entry (SQE) and completion entry (CQE), and the
 * constants of the operations the file card issues. Values from Linux
 * {@code include/uapi/linux/io_uring.h} (x86_64 and aarch64 share them; the syscall numbers are the
 * unified ones from 5.1 on).
 *
 * <pre>
 * io_uring_params (120 bytes)
 *   0 sq_entries    4 cq_entries    8 flags    12 sq_thread_cpu   16 sq_thread_idle
 *  20 features     24 wq_fd        28 resv[3]
 *  40 sq_off: head, tail, ring_mask, ring_entries, flags, dropped, array, resv1 (u32 each), user_addr (u64)
 *  80 cq_off: head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1 (u32 each), user_addr (u64)
 *
 * SQE (64 bytes)
 *   0 opcode u8   1 flags u8   2 ioprio u16   4 fd s32
 *   8 off u64 (file offset)
 *  16 addr u64 (iovec array; for FALLOCATE the length; for ASYNC_CANCEL the user_data to cancel)
 *  24 len u32 (iovec count; for FALLOCATE the mode)
 *  28 op flags u32 (rw_flags, fsync_flags, cancel_flags)
 *  32 user_data u64
 *  40 buf_index u16   42 personality u16   44 splice_fd_in s32   48 addr3 u64   56 pad u64
 *
 * CQE (16 bytes)
 *   0 user_data u64   8 res s32 (bytes, or -errno)   12 flags u32
 *
 * Rings (mmap of the ring fd):   SQ ring at IORING_OFF_SQ_RING, CQ ring at IORING_OFF_CQ_RING
 * (the same mapping with IORING_FEAT_SINGLE_MMAP), SQE array at IORING_OFF_SQES.
 *   user space writes SQ tail (release) and CQ head (release);
 *   the kernel writes SQ head and CQ tail, which user space loads with acquire.
 * </pre>
 */
final class IoUringDescriptor
{
    static final long SYS_IO_URING_SETUP = 425;
    static final long SYS_IO_URING_ENTER = 426;
    static final long SYS_IO_URING_REGISTER = 427;

    // io_uring_params
    static final int PARAMS_LENGTH = 120;
    static final int PARAMS_SQ_ENTRIES = 0;
    static final int PARAMS_CQ_ENTRIES = 4;
    static final int PARAMS_FLAGS = 8;
    static final int PARAMS_FEATURES = 20;
    static final int PARAMS_SQ_OFF = 40;
    static final int PARAMS_CQ_OFF = 80;

    // io_sqring_offsets, relative to PARAMS_SQ_OFF
    static final int SQ_OFF_HEAD = 0;
    static final int SQ_OFF_TAIL = 4;
    static final int SQ_OFF_RING_MASK = 8;
    static final int SQ_OFF_RING_ENTRIES = 12;
    static final int SQ_OFF_FLAGS = 16;
    static final int SQ_OFF_DROPPED = 20;
    static final int SQ_OFF_ARRAY = 24;

    // io_cqring_offsets, relative to PARAMS_CQ_OFF
    static final int CQ_OFF_HEAD = 0;
    static final int CQ_OFF_TAIL = 4;
    static final int CQ_OFF_RING_MASK = 8;
    static final int CQ_OFF_RING_ENTRIES = 12;
    static final int CQ_OFF_OVERFLOW = 16;
    static final int CQ_OFF_CQES = 20;

    // SQE
    static final int SQE_LENGTH = 64;
    static final int SQE_OPCODE = 0;
    static final int SQE_FLAGS = 1;
    static final int SQE_IOPRIO = 2;
    static final int SQE_FD = 4;
    static final int SQE_OFF = 8;
    static final int SQE_ADDR = 16;
    static final int SQE_LEN = 24;
    static final int SQE_OP_FLAGS = 28;
    static final int SQE_USER_DATA = 32;

    // CQE
    static final int CQE_LENGTH = 16;
    static final int CQE_USER_DATA = 0;
    static final int CQE_RES = 8;
    static final int CQE_FLAGS = 12;

    // mmap offsets
    static final long IORING_OFF_SQ_RING = 0L;
    static final long IORING_OFF_CQ_RING = 0x8000000L;
    static final long IORING_OFF_SQES = 0x10000000L;

    static final int IORING_FEAT_SINGLE_MMAP = 1;

    static final int IORING_ENTER_GETEVENTS = 1;
    static final int IORING_ENTER_EXT_ARG = 8;
    static final int IORING_FEAT_EXT_ARG = 1 << 8;

    // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 min_wait_usec; u64 ts; }, then the
    // struct __kernel_timespec { s64 tv_sec; s64 tv_nsec; } it points at, kept in one native block.
    static final int GETEVENTS_ARG_LENGTH = 24;
    static final int GETEVENTS_ARG_TS = 16;
    static final int TIMESPEC_OFFSET = 32;
    static final int TIMESPEC_SEC = 0;
    static final int TIMESPEC_NSEC = 8;

    // opcodes
    static final byte IORING_OP_NOP = 0;
    static final byte IORING_OP_READV = 1;
    static final byte IORING_OP_WRITEV = 2;
    static final byte IORING_OP_FSYNC = 3;
    static final byte IORING_OP_ASYNC_CANCEL = 14;
    static final byte IORING_OP_FALLOCATE = 17;

    static final int IORING_FSYNC_DATASYNC = 1;

    static final int IORING_ASYNC_CANCEL_ALL = 1;
    static final int IORING_ASYNC_CANCEL_ANY = 1 << 2;

    // fallocate(2) modes
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /** struct iovec: base u64, length u64. */
    static final int IOVEC_LENGTH = 16;

    private IoUringDescriptor()
    {
    }
}
