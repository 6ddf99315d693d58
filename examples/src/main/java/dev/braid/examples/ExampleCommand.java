package dev.braid.examples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code braid example}: runs {@link MinimalVmm}, the embedding example. */
@Command(name = "example", mixinStandardHelpOptions = true,
    description = "Run the embedding example: a minimal VMM loop around one aggregated virtio-blk device.")
public final class ExampleCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    public Integer call() throws Exception
    {
        final MinimalVmm.Outcome outcome = MinimalVmm.run(spec.commandLine().getOut());
        return outcome.ok() ? BraidCli.OK : BraidCli.INVARIANT_BROKEN;
    }
}
