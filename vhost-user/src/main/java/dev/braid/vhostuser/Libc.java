package dev.braid.vhostuser;

import com.sun.jna.Native;

/**
 * The few libc calls the transport needs, by JNA direct mapping (no allocation per call with
 * primitive arguments; pointers are passed as {@code long} addresses, as on every LP64 Linux).
 */
public final class Libc
{
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final long MAP_FAILED = -1L;
    public static final int SEEK_END = 2;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int MFD_CLOEXEC = 0x1;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 0x001;
    /** struct epoll_event is packed on x86-64: u32 events, u64 data. */
    public static final int EPOLL_EVENT_LENGTH = 12;
    public static final int EPOLL_EVENT_DATA_OFFSET = 4;

    static
    {
        Native.register(Libc.class, "c");
    }

    private Libc()
    {
    }

    public static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    public static native int munmap(long addr, long length);

    public static native int close(int fd);

    public static native long lseek(int fd, long offset, int whence);

    public static native int ftruncate(int fd, long length);

    public static native int eventfd(int initval, int flags);

    public static native long read(int fd, long buf, long count);

    public static native long write(int fd, long buf, long count);

    public static native int memfd_create(String name, int flags);

    public static native int dup(int fd);

    public static native int fcntl(int fd, int cmd, int arg);

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epfd, int op, int fd, long event);

    public static native int epoll_wait(int epfd, long events, int maxevents, int timeout);
}
