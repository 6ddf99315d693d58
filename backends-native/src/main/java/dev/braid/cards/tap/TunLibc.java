package dev.braid.cards.tap;

import com.sun.jna.Native;

/**
 * The libc calls a TAP card needs, by JNA direct mapping: primitive arguments, pointers as
 * {@code long} addresses (LP64 Linux), so no allocation per call. Constants from Linux
 * {@code include/uapi/linux/if_tun.h}, {@code if.h} and {@code asm-generic/errno*.h} (x86-64, arm64).
 */
final class TunLibc
{
    static final int O_RDWR = 0x2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;

    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    static final long SIOCGIFFLAGS = 0x8913L;

    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_VNET_HDR = 0x4000;
    static final short IFF_MULTI_QUEUE = 0x0100;
    static final short IFF_UP = 0x1;

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;

    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int EBADFD = 77;

    /** sizeof(struct ifreq) on LP64: a 16-byte name and a 24-byte union. */
    static final int IFREQ_SIZE = 40;
    static final int IFNAMSIZ = 16;
    static final int IFREQ_FLAGS_OFFSET = 16;
    /** sizeof(struct iovec) on LP64: base then length. */
    static final int IOVEC_SIZE = 16;

    static
    {
        Native.register(TunLibc.class, "c");
    }

    private TunLibc()
    {
    }

    static native int open(String path, int flags);

    static native int close(int fd);

    static native int ioctl(int fd, long request, long arg);

    static native int socket(int domain, int type, int protocol);

    static native int dup2(int oldFd, int newFd);

    static native long readv(int fd, long iov, int count);

    static native long writev(int fd, long iov, int count);

    static native long strerror(int errno);

    static int errno()
    {
        return Native.getLastError();
    }

    static String describe(final int errno)
    {
        final long message = strerror(errno);
        return message == 0 ? "errno " + errno : new com.sun.jna.Pointer(message).getString(0) + " (errno " + errno + ")";
    }
}
