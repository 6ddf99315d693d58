package dev.braid.testkit.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.braid.testkit.RealPeers;

/**
 * Boots a stock Linux guest under {@code qemu-system-x86_64} for one test, runs a shell script in
 * it and returns what it reported ({@link GuestResult}). The guest is a Debian kernel
 * ({@link GuestKernel}) with an initramfs built here ({@link Initramfs}: static busybox, the
 * virtio modules, the script). Guest memory is a shared memfd ({@code memory-backend-memfd,share=on}),
 * so vhost-user backends can map it. The console goes to {@code target/guest-logs/<name>.log}
 * and stays there.
 * <p>
 * Every run has a hard timeout; QEMU, its temp directory and the shutdown hook are gone when
 * {@link #run()} returns or throws (or when {@link #start()}'s {@link RunningGuest} closes). Not thread-safe: one builder per run, on the test thread.
 * <pre>
 *   GuestResult r = GuestRun.builder().name("blk-smoke").vhostUserBlk(socket, 2)
 *       .script("dd if=/dev/vda bs=4k count=1 | md5sum").run().assertSucceeded();
 * </pre>
 */
public final class GuestRun
{
    /** Modules every guest loads: the PCI transport and the three device drivers Braid serves. */
    public static final List<String> DEFAULT_MODULES = List.of("virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "sd_mod");

    private String name;
    private String script;
    private int memoryMiB = 256;
    private int cpus = 1;
    private Duration timeout = Duration.ofSeconds(90);
    private Firmware firmware = Firmware.QBOOT;
    private Accelerator.Choice accelerator;
    private Path logDir = Path.of("target", "guest-logs");
    private String kernelArgs = "";
    private final List<String> modules = new ArrayList<>(DEFAULT_MODULES);
    private final List<String> qemuArgs = new ArrayList<>();
    private final List<Initramfs.GuestFile> files = new ArrayList<>();
    private boolean vhostUserServer;
    private boolean reboots;
    private final List<VhostUserDevice> vhostUser = new ArrayList<>();

    private record VhostUserDevice(String kind, Path socket, int queues)
    {
    }

    private GuestRun()
    {
    }

    public static GuestRun builder()
    {
        return new GuestRun();
    }

    /** The run's name: the console log is {@code <logDir>/<name>.log}. Letters, digits, '.', '_', '-'. */
    public GuestRun name(final String name)
    {
        this.name = name;
        return this;
    }

    /** The guest's shell script (busybox sh), run after the modules load; its exit status is BRAID-DONE's rc. */
    public GuestRun script(final String script)
    {
        this.script = script;
        return this;
    }

    public GuestRun memoryMiB(final int memoryMiB)
    {
        this.memoryMiB = memoryMiB;
        return this;
    }

    public GuestRun cpus(final int cpus)
    {
        this.cpus = cpus;
        return this;
    }

    /** Hard limit from QEMU's start to its exit; QEMU is killed when it passes. */
    public GuestRun timeout(final Duration timeout)
    {
        this.timeout = timeout;
        return this;
    }

    public GuestRun firmware(final Firmware firmware)
    {
        this.firmware = firmware;
        return this;
    }

    /** Forces an accelerator (default: {@link Accelerator#detect()}). */
    public GuestRun accelerator(final Accelerator accelerator)
    {
        this.accelerator = new Accelerator.Choice(accelerator, "forced by the test");
        return this;
    }

    public GuestRun logDir(final Path logDir)
    {
        this.logDir = logDir;
        return this;
    }

    /** Appended to the kernel command line. */
    public GuestRun kernelArgs(final String kernelArgs)
    {
        this.kernelArgs = kernelArgs;
        return this;
    }

    /** More kernel modules to load (with their dependencies), after the defaults. */
    public GuestRun modules(final String... names)
    {
        modules.addAll(List.of(names));
        return this;
    }

    /**
     * Copies a host file into the guest at {@code guestPath} (absolute), e.g. a static {@code fio}.
     * The initramfs sits in guest RAM twice while it unpacks: size {@link #memoryMiB} for it.
     */
    public GuestRun file(final String guestPath, final Path hostFile, final int permissions)
    {
        files.add(new Initramfs.GuestFile(guestPath, hostFile, permissions));
        return this;
    }

    /**
     * Copies the host's dynamically linked {@code name} (e.g. {@code fio}) into the guest at
     * {@code /usr/bin/<name>} with its shared libraries and loader ({@link HostBinary}); a missing
     * binary skips the test loudly (fails it under CI=true). Libraries shared with an earlier
     * binary are copied once. Big ones (fio's are 80 MiB) want {@link #memoryMiB} of 512 or more.
     */
    public GuestRun hostBinary(final String name) throws java.io.IOException
    {
        for (final Initramfs.GuestFile file : HostBinary.require(name))
        {
            if (files.stream().noneMatch(f -> f.guestPath().equals(file.guestPath())))
            {
                files.add(file);
            }
        }
        return this;
    }

    /** Extra files so far (for tests of the builder). */
    int fileCount()
    {
        return files.size();
    }

    /** Extra QEMU arguments, e.g. {@code -drive ... -device ...}, passed as given. */
    public GuestRun qemuArgs(final String... args)
    {
        qemuArgs.addAll(List.of(args));
        return this;
    }

    /** A vhost-user-blk-pci device served by the backend listening on {@code socket}. */
    public GuestRun vhostUserBlk(final Path socket, final int queues)
    {
        vhostUser.add(new VhostUserDevice("blk", socket, queues));
        return this;
    }

    /** A virtio-net-pci on a vhost-user netdev (mq when queues > 1); under TCG without MSI-X (see {@link VhostUserArgs}). */
    public GuestRun vhostUserNet(final Path socket, final int queuePairs)
    {
        vhostUser.add(new VhostUserDevice("net", socket, queuePairs));
        return this;
    }

    /** A vhost-user-scsi-pci device served by the backend listening on {@code socket}. */
    public GuestRun vhostUserScsi(final Path socket, final int queues)
    {
        vhostUser.add(new VhostUserDevice("scsi", socket, queues));
        return this;
    }

    /**
     * QEMU listens on every vhost-user socket ({@code server=on,wait=on}) and starts the guest only
     * once the backend has connected: for {@code braid serve --client}. Use {@link #start()}.
     */
    public GuestRun vhostUserServer(final boolean qemuListens)
    {
        this.vhostUserServer = qemuListens;
        return this;
    }

    /**
     * Lets the guest reboot ({@code reboot -f}) instead of ending the run: QEMU resets the machine
     * and boots the same kernel and script again, which must tell the boots apart (by what it left
     * on its disk). The run ends at the first power-off.
     */
    public GuestRun reboots(final boolean reboots)
    {
        this.reboots = reboots;
        return this;
    }

    /** Validates and fills defaults; one line naming the bad value. */
    GuestRun conclude()
    {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,100}"))
        {
            throw new IllegalArgumentException("guest run name must be 1..100 of [A-Za-z0-9._-]: " + name);
        }
        if (script == null)
        {
            throw new IllegalArgumentException("guest run " + name + " has no script");
        }
        if (memoryMiB < 64 || memoryMiB > 64 * 1024)
        {
            throw new IllegalArgumentException("guest memoryMiB must be 64..65536: " + memoryMiB);
        }
        if (cpus < 1 || cpus > 64)
        {
            throw new IllegalArgumentException("guest cpus must be 1..64: " + cpus);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero())
        {
            throw new IllegalArgumentException("guest timeout must be positive: " + timeout);
        }
        if (accelerator == null)
        {
            accelerator = Accelerator.detect();
        }
        return this;
    }

    /** The full QEMU command line for this run (after {@link #conclude()}). */
    List<String> command(final Path qemu, final GuestKernel kernel, final Path initramfs)
    {
        return command(qemu, kernel, initramfs, null);
    }

    /** The command line with the human monitor on {@code monitor} (a unix socket), or none when null. */
    List<String> command(final Path qemu, final GuestKernel kernel, final Path initramfs, final Path monitor)
    {
        final boolean kvm = accelerator.accelerator() == Accelerator.KVM;
        final List<String> cmd = new ArrayList<>(List.of(
            qemu.toString(),
            "-name", "braid-guest-" + name,
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
            "-monitor", monitor == null ? "none" : "unix:" + monitor + ",server=on,wait=off",
            "-machine", "q35,accel=" + (kvm ? "kvm" : "tcg") + ",memory-backend=mem",
            "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
            "-m", memoryMiB + "M",
            "-smp", Integer.toString(cpus)));
        if (!reboots)
        {
            cmd.add("-no-reboot");
        }
        if (kvm)
        {
            cmd.addAll(List.of("-cpu", "host"));
        }
        if (firmware.biosPath() != null)
        {
            cmd.addAll(List.of("-bios", firmware.biosPath()));
        }
        cmd.addAll(List.of(
            "-kernel", kernel.image().toString(),
            "-initrd", initramfs.toString(),
            // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can miss
            // its ticks and panic at boot ("IO-APIC + timer doesn't work"), seen at load 25 on 2 cores.
            "-append", ("console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init no_timer_check " + kernelArgs).trim()));
        for (int i = 0; i < vhostUser.size(); i++)
        {
            final VhostUserDevice device = vhostUser.get(i);
            final String id = "vu" + i;
            final Path socket = device.socket();
            final int queues = device.queues();
            switch (device.kind())
            {
                case "blk" -> cmd.addAll(VhostUserArgs.blk(id, socket, queues, vhostUserServer));
                case "net" -> cmd.addAll(VhostUserArgs.net(id, socket, queues, !kvm, vhostUserServer));
                default -> cmd.addAll(VhostUserArgs.scsi(id, socket, queues, vhostUserServer));
            }
        }
        cmd.addAll(qemuArgs);
        return cmd;
    }

    /**
     * Boots the guest and waits for it to power off, for its timeout, or for QEMU to exit. A missing
     * QEMU, kernel or busybox skips the test loudly (fails it under CI=true).
     */
    public GuestResult run() throws IOException, InterruptedException
    {
        try (RunningGuest guest = start())
        {
            return guest.awaitResult();
        }
    }

    /**
     * Boots the guest and returns at once, for a test that acts while the guest runs (a failover
     * mid-workload, a backend that connects to a QEMU in server mode). Close the handle in a
     * try-with-resources block: it kills QEMU and removes the temp files.
     */
    public RunningGuest start() throws IOException
    {
        conclude();
        final Path qemu = RealPeers.requireExecutable("qemu-system-x86_64");
        final Path busybox = RealPeers.requireFile("/bin/busybox");
        final GuestKernel kernel = GuestKernel.require();
        if (firmware.biosPath() != null)
        {
            RealPeers.requireFile(firmware.biosPath());
        }
        final List<Path> moduleFiles = KernelModules.index(kernel.modulesDir()).loadOrder(modules);

        Files.createDirectories(logDir);
        final Path log = logDir.resolve(name + ".log").toAbsolutePath();
        final Path temp = Files.createTempDirectory("braid-guest-" + name + "-");
        boolean started = false;
        try
        {
            final Path initramfs = temp.resolve("initramfs.cpio.gz");
            Initramfs.write(initramfs, busybox, moduleFiles, script, files);
            // A run that times out asks QEMU's monitor for the rings' state before it is killed.
            final Path monitor = temp.resolve("monitor.sock");
            final List<String> cmd = command(qemu, kernel, initramfs, QemuMonitor.fits(monitor) ? monitor : null);
            final String header = "### braid guest run " + name + ": accel=" +
                accelerator.accelerator().name().toLowerCase(Locale.ROOT) + " (" + accelerator.reason() + "), firmware=" +
                firmware.name().toLowerCase(Locale.ROOT) + ", kernel=" + kernel.image() + " (" + kernel.version() +
                "), modules=" + moduleFiles.size() + ", timeout=" + timeout + "\n### " + String.join(" ", cmd) + "\n";
            final RunningGuest guest = RunningGuest.launch(name, accelerator, cmd, header, log, temp, timeout,
                QemuMonitor.fits(monitor) ? monitor : null);
            started = true;
            return guest;
        }
        finally
        {
            if (!started)
            {
                RunningGuest.deleteTree(temp);
            }
        }
    }

    /** QEMU processes started by this JVM that are still alive (a test's leak check). */
    public static long liveQemuProcesses()
    {
        return ProcessHandle.current().descendants()
            .filter(ProcessHandle::isAlive)
            .filter(p -> p.info().command().map(c -> c.contains("qemu-system")).orElse(false))
            .count();
    }
}
