package dev.braid.examples;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

class MinimalVmmTest
{
    @Test
    void theEmbeddingExampleRunsHundredsOfVerifiedRequests() throws Exception
    {
        final StringWriter text = new StringWriter();
        final MinimalVmm.Outcome outcome = MinimalVmm.run(new PrintWriter(text, true));
        assertTrue(outcome.ok(), outcome + "\n" + text);
        assertEquals(500, outcome.completed());
        assertTrue(outcome.interrupts() > 0, "interrupts were injected");
        assertTrue(text.toString().contains("example: OK"));
    }
}
