package dev.braid.testkit.guest;

/**
 * The guest's firmware. qboot jumps straight to the kernel and never touches a device; SeaBIOS
 * starts and resets each virtio device once before Linux does (a reset for a backend to survive).
 */
public enum Firmware
{
    QBOOT("/usr/share/qemu/qboot.rom"),
    SEABIOS(null);

    private final String biosPath;

    Firmware(final String biosPath)
    {
        this.biosPath = biosPath;
    }

    /** The {@code -bios} file, or null for QEMU's default (SeaBIOS). */
    public String biosPath()
    {
        return biosPath;
    }
}
