package dev.braid.examples;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The README's "Embedding Braid in a VMM" snippet is the code between the markers below, so it
 * compiles with the tree; the second test fails when the README's copy drifts from it.
 */
class ReadmeEmbeddingSnippetTest
{
    private static final String BEGIN = "// README snippet begins";
    private static final String END = "// README snippet ends";

    /** What the snippet's {@code vmm} stands for: the VMM's interrupt controller and its threads. */
    static final class Vmm
    {
        final List<Integer> queueInterrupts = new ArrayList<>();
        int configInterrupts;
        AgentThreads threads;

        void injectQueueInterrupt(final int queue)
        {
            queueInterrupts.add(queue);
        }

        void injectConfigInterrupt()
        {
            configInterrupts++;
        }
    }

    @Test
    void theSnippetBuildsADevice(@TempDir final Path dir) throws IOException
    {
        final Path ramFile = dir.resolve("ram");
        final long ramSize = 4 << 20;
        try (RandomAccessFile file = new RandomAccessFile(ramFile.toFile(), "rw"))
        {
            file.setLength(ramSize);
        }
        final SharedBlockStore store = new SharedBlockStore(2048);
        final BlockCard diskA = SimDisk.builder("a", store).build();
        final BlockCard diskB = SimDisk.builder("b", store).build();
        final int queues = 2;
        final Vmm vmm = new Vmm();

        // README snippet begins
        GuestMemory memory = GuestMemory.builder().addMappedFile(0, ramFile, 0, ramSize).build();
        VirtioBlkDevice blk = new VirtioBlkDevice(new VirtioBlkDevice.Context()
            .memory(memory).cards(List.of(diskA, diskB)).queueCount(queues)
            .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
            .allDown(AllDownPolicy.queueUntilDeadline(5_000_000_000L))
            .interrupts(vmm::injectQueueInterrupt).configInterrupt(vmm::injectConfigInterrupt)
            .onActivate(agents -> vmm.threads = AgentThreads.start(agents, 2, AgentThreads.backoff()))
            .onDeactivate(() -> vmm.threads.close()));
        // transport: blk.core() for feature/queue registers, blk.writeStatus(v), blk.readConfig(off, w), blk.kick(q)
        // README snippet ends

        assertEquals(2048, blk.readConfig(0, 8), "capacity: the smallest card's");
        assertEquals(queues, blk.core().queueCount());
        assertNull(blk.device(), "nothing runs before DRIVER_OK");
    }

    @Test
    void theReadmeShowsExactlyThatSnippet() throws IOException
    {
        final Path module = Path.of("").toAbsolutePath();
        final Path source = module.resolve("src/test/java/dev/braid/examples/ReadmeEmbeddingSnippetTest.java");
        final Path readme = module.getParent().resolve("README.md");
        final String inTest = snippetOfTest(Files.readString(source, StandardCharsets.UTF_8));
        final String inReadme = snippetOfReadme(Files.readString(readme, StandardCharsets.UTF_8));
        assertEquals(inTest, inReadme, "README.md's embedding snippet differs from " + source.getFileName() +
            ": copy the code between the markers into the README (indentation removed)");
    }

    private static String snippetOfTest(final String source)
    {
        // The last occurrences: the first ones are these constants.
        final int begin = source.lastIndexOf(BEGIN);
        final int end = source.lastIndexOf(END);
        assertTrue(begin >= 0 && end > begin, "markers missing");
        final String[] lines = source.substring(source.indexOf('\n', begin) + 1, source.lastIndexOf('\n', end)).split("\n");
        int indent = Integer.MAX_VALUE;
        for (final String line : lines)
        {
            if (!line.isBlank())
            {
                indent = Math.min(indent, line.length() - line.stripLeading().length());
            }
        }
        final StringBuilder out = new StringBuilder();
        for (final String line : lines)
        {
            out.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
        }
        return out.toString();
    }

    private static String snippetOfReadme(final String readme)
    {
        final int section = readme.indexOf("## Embedding Braid in a VMM");
        assertTrue(section >= 0, "README section 'Embedding Braid in a VMM' missing");
        final int open = readme.indexOf("```java\n", section);
        final int close = readme.indexOf("```", open + 8);
        assertTrue(open >= 0 && close > open, "no java block in the README's embedding section");
        return readme.substring(open + 8, close);
    }
}
