package dev.braid.cards.file;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The few libc calls the file card needs, through JNA direct mapping: primitive arguments only on
 * the hot path ({@link #syscall}), so a call allocates nothing. Errors come back as -1 with errno in
 * {@link Native#getLastError()} (JNA keeps it per thread after every call).
 */
final class LinuxNative
{
    static final int O_RDWR = 02;
    static final int O_CLOEXEC = 02000000;
    static final int O_DIRECT = 040000;

    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_POPULATE = 0x8000;
    static final long MAP_FAILED = -1L;

    static final int AT_EMPTY_PATH = 0x1000;
    static final long SYS_STATX = Platform.isARM() ? 291 : 332;

    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EINVAL = 22;
    static final int ETIME = 62;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;
    static final int ECANCELED = 125;

    static
    {
        Native.register(LinuxNative.class, Platform.C_LIBRARY_NAME);
    }

    private LinuxNative()
    {
    }

    /** glibc's syscall(2); unused arguments are ignored by the kernel. */
    static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    static native long mmap(long address, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long address, long length);

    static native int open(String path, int flags, int mode);

    static native int close(int fd);

    static native int ioctl(int fd, long request, long argument);

    static int errno()
    {
        return Native.getLastError();
    }

    static String errnoName(final int errno)
    {
        switch (errno)
        {
            case EPERM: return "EPERM";
            case EINTR: return "EINTR";
            case EAGAIN: return "EAGAIN";
            case EBUSY: return "EBUSY";
            case EINVAL: return "EINVAL";
            case ENOSYS: return "ENOSYS";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case ECANCELED: return "ECANCELED";
            case ETIME: return "ETIME";
            case 2: return "ENOENT";
            case 5: return "EIO";
            case 9: return "EBADF";
            case 12: return "ENOMEM";
            case 13: return "EACCES";
            case 21: return "EISDIR";
            case 28: return "ENOSPC";
            default: return "errno " + errno;
        }
    }
}
