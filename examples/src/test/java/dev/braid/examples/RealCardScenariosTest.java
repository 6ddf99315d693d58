package dev.braid.examples;

import dev.braid.examples.faults.RealCardScenarios;
import dev.braid.examples.faults.ScenarioResult;
import dev.braid.examples.soak.Specs;
import dev.braid.testkit.RealPeers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code braid faults --real}: each real-card scenario passes (0 lost, duplicated or corrupted guest
 * I/O per the reference model, plus the scenario's own claim: the fault was seen and the other path
 * carried the I/O). A missing peer is the loud RealPeers skip (a failure under CI=true).
 */
class RealCardScenariosTest
{
    static java.util.List<String> names()
    {
        return RealCardScenarios.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void passes(final String name)
    {
        final ScenarioResult r = RealCardScenarios.run(name, 1);
        if ("PENDING".equals(r.result()))
        {
            RealPeers.require(false, r.note().substring(r.note().indexOf(':') + 1).trim(), "braid faults --real " + name);
        }
        System.out.println(name + " " + r.result() + " stall p50 " + Specs.nanos(r.stallP50Nanos()) + " max " +
            Specs.nanos(r.stallMaxNanos()) + " requests " + r.requests() + ": " + r.note());
        assertTrue(r.passed(), name + ": " + r.note());
    }
}
