package dev.braid.testkit.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How QEMU runs the guest's CPU. {@link #detect()} picks KVM only when {@code /dev/kvm} is usable
 * <em>and</em> the CPU shows {@code vmx} or {@code svm}: a nested PVM host exposes {@code /dev/kvm}
 * without them, and KVM guests there crawl or die. {@code -Dbraid.guest.accel=kvm|tcg} overrides.
 */
public enum Accelerator
{
    KVM, TCG;

    /** The accelerator to use here, with the reason, for the log. */
    public record Choice(Accelerator accelerator, String reason)
    {
    }

    public static Choice detect()
    {
        final String forced = System.getProperty("braid.guest.accel");
        if (forced != null && !forced.isBlank())
        {
            try
            {
                return new Choice(valueOf(forced.trim().toUpperCase(Locale.ROOT)), "forced by -Dbraid.guest.accel=" + forced);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("-Dbraid.guest.accel must be kvm or tcg: '" + forced + "'", ex);
            }
        }
        final Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm))
        {
            return new Choice(TCG, "no /dev/kvm");
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm))
        {
            return new Choice(TCG, "/dev/kvm not read/writable by " + System.getProperty("user.name"));
        }
        final String cpuinfo;
        try
        {
            cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
        }
        catch (final IOException ex)
        {
            return new Choice(TCG, "cannot read /proc/cpuinfo: " + ex.getMessage());
        }
        if (!cpuinfo.matches("(?s).*\\bflags\\s*:[^\\n]*\\b(vmx|svm)\\b.*"))
        {
            return new Choice(TCG, "/dev/kvm present but the CPU shows neither vmx nor svm (nested PVM: KVM guests crawl)");
        }
        return new Choice(KVM, "/dev/kvm usable and the CPU has vmx/svm");
    }
}
