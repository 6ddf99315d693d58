package dev.braid.testkit.guest;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
 * {@link #run()} returns or throws. Not thread-safe: one builder per run, on the test thread.
 * <pre>
 *   GuestResult r = GuestRun.builder().name("blk-smoke").vhostUserBlk(socket, 2)
 *       .script("dd if=/dev/vda bs=4k count=1 | md5sum").run().assertSucceeded();
 * </pre>
 */
public final class GuestRun
{
    /** Modules every guest loads: the PCI transport and the three device drivers Braid serves. */
    public static final List<String> DEFAULT_MODULES = List.of("virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "sd_mod");

    private static final long POWEROFF_GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);

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
        final boolean kvm = accelerator.accelerator() == Accelerator.KVM;
        final List<String> cmd = new ArrayList<>(List.of(
            qemu.toString(),
            "-name", "braid-guest-" + name,
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-no-reboot",
            "-machine", "q35,accel=" + (kvm ? "kvm" : "tcg") + ",memory-backend=mem",
            "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
            "-m", memoryMiB + "M",
            "-smp", Integer.toString(cpus)));
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
            "-append", ("console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init " + kernelArgs).trim()));
        for (int i = 0; i < vhostUser.size(); i++)
        {
            final VhostUserDevice device = vhostUser.get(i);
            final String id = "vu" + i;
            final Path socket = device.socket();
            final int queues = device.queues();
            switch (device.kind())
            {
                case "blk" -> cmd.addAll(VhostUserArgs.blk(id, socket, queues));
                case "net" -> cmd.addAll(VhostUserArgs.net(id, socket, queues, !kvm));
                default -> cmd.addAll(VhostUserArgs.scsi(id, socket, queues));
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
        Process process = null;
        Thread hook = null;
        Thread reader = null;
        try
        {
            final Path initramfs = temp.resolve("initramfs.cpio.gz");
            Initramfs.write(initramfs, busybox, moduleFiles, script, files);
            final List<String> cmd = command(qemu, kernel, initramfs);

            final BufferedWriter console = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1);
            console.write("### braid guest run " + name + ": accel=" + accelerator.accelerator().name().toLowerCase(Locale.ROOT) +
                " (" + accelerator.reason() + "), firmware=" + firmware.name().toLowerCase(Locale.ROOT) + ", kernel=" +
                kernel.image() + " (" + kernel.version() + "), modules=" + moduleFiles.size() + ", timeout=" + timeout + "\n");
            console.write("### " + String.join(" ", cmd) + "\n");
            console.flush();

            final long start = System.nanoTime();
            final ConsoleMarkers markers = new ConsoleMarkers(start);
            try
            {
                process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            }
            catch (final IOException ex)
            {
                console.close();
                throw ex;
            }
            final Process started = process;
            hook = new Thread(() ->
            {
                kill(started);
                deleteTree(temp);
            }, "braid-guest-kill-" + name);
            Runtime.getRuntime().addShutdownHook(hook);
            reader = new Thread(() -> copyConsole(started, console, markers), "braid-guest-console-" + name);
            reader.setDaemon(true);
            reader.start();

            final long deadline = start + timeout.toNanos();
            boolean timedOut = false;
            String killed = "";
            while (!process.waitFor(20, TimeUnit.MILLISECONDS))
            {
                final long now = System.nanoTime();
                // After BRAID-DONE the guest powers off; a guest that halts instead is killed after a grace.
                if (now - deadline > 0 || (markers.done() && now - (start + markers.doneAfterNanos()) > POWEROFF_GRACE_NANOS))
                {
                    timedOut = !markers.done();
                    killed = timedOut ? " (killed: timeout " + timeout + ")" : " (killed: no power-off after BRAID-DONE)";
                    break;
                }
            }
            kill(process);
            reader.join(TimeUnit.SECONDS.toMillis(5));
            final int exit = process.isAlive() ? -1 : process.exitValue();
            try (BufferedWriter tail = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND))
            {
                tail.write("### qemu exit=" + exit + killed +
                    " booted=" + GuestResult.seconds(markers.bootedAfterNanos()) +
                    " done=" + GuestResult.seconds(markers.doneAfterNanos()) + " rc=" + markers.doneRc() + "\n");
            }
            final GuestResult result = new GuestResult(name, accelerator, markers.results(), markers.doneRc(),
                markers.bootedAfterNanos(), markers.doneAfterNanos(), exit, timedOut, log);
            System.out.println(result.summary());
            return result;
        }
        finally
        {
            if (process != null)
            {
                kill(process);
            }
            if (reader != null)
            {
                reader.join(TimeUnit.SECONDS.toMillis(5));
            }
            if (hook != null)
            {
                try
                {
                    Runtime.getRuntime().removeShutdownHook(hook);
                }
                catch (final IllegalStateException ignored)
                {
                    // The JVM is already shutting down: the hook kills QEMU itself.
                }
            }
            deleteTree(temp);
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

    private static void copyConsole(final Process process, final BufferedWriter console, final ConsoleMarkers markers)
    {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1)); console)
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                markers.onLine(line, System.nanoTime());
                console.write(line);
                console.write('\n');
                console.flush();
            }
        }
        catch (final IOException ex)
        {
            // QEMU was killed mid-line, or the log cannot be written: the run's result says what it saw.
            System.err.println("guest console copy stopped: " + ex);
        }
    }

    private static void kill(final Process process)
    {
        if (!process.isAlive())
        {
            return;
        }
        process.destroy();
        try
        {
            if (!process.waitFor(2, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Best effort, from the finally block or the shutdown hook: a failure is one line, not a masked exception. */
    private static void deleteTree(final Path root)
    {
        if (!Files.exists(root))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException | UncheckedIOException ex)
        {
            System.err.println("guest temp dir " + root + " not fully deleted: " + ex);
        }
    }
}
