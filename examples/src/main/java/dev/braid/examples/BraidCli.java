package dev.braid.examples;

import dev.braid.examples.soak.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * The {@code braid} command: with no arguments the 30-second demo (a soak of 4 simulated disks,
 * active-active, a fault every few seconds); subcommands soak, faults, example, bench and serve (vhost-user).
 * Exit status: 0 when every invariant held, 1 when one broke, 2 for bad usage.
 */
@Command(name = "braid", mixinStandardHelpOptions = true, version = "braid 0.1.0",
    description = "One virtio device served by several cards: soak runner, fault scenarios, embedding example, benchmarks.%n" +
        "With no arguments: a 30-second demo (4 simulated disks, active-active, a fault every few seconds).",
    subcommands = { SoakCommand.class, FaultsCommand.class, ExampleCommand.class, BenchCommand.class, ServeCommand.class })
public final class BraidCli implements Callable<Integer>
{
    public static final int OK = 0;
    public static final int INVARIANT_BROKEN = 1;
    public static final int USAGE = 2;

    public Integer call() throws Exception
    {
        final SoakCommand demo = new SoakCommand();
        demo.spec = null;
        return demo.call();
    }

    public static void main(final String[] args)
    {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the CLI with the given streams; returns the exit status (tests call this). */
    public static int run(final PrintWriter out, final PrintWriter err, final String... args)
    {
        final CommandLine cli = new CommandLine(new BraidCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((ex, a) ->
        {
            err.println("braid: " + firstLine(ex.getMessage()));
            return USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) ->
        {
            if (ex instanceof UsageException)
            {
                err.println("braid: " + ex.getMessage());
                return USAGE;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    private static String firstLine(final String message)
    {
        if (message == null)
        {
            return "bad usage";
        }
        final int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).trim();
    }
}
