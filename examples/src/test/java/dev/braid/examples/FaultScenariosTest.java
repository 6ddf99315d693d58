package dev.braid.examples;

import dev.braid.examples.faults.FaultScenarios;
import dev.braid.examples.faults.ScenarioResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The named fault scenarios of {@code braid faults}, one test each. */
class FaultScenariosTest
{
    static List<String> scenarios()
    {
        return FaultScenarios.names();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void scenario(final String name)
    {
        final long seed = Long.getLong("braid.seed", 1);
        System.out.println("seed=" + seed + " scenario=" + name);
        final ScenarioResult r = FaultScenarios.run(name, seed);
        System.out.println(r);
        assertEquals("PASS", r.result(), r.note());
        assertTrue(r.requests() > 0);
    }
}
