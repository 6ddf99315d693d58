package dev.braid.testkit.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failing guest script is reported with its status and the console, never swallowed. */
@ExtendWith(NoQemuLeftBehind.class)
class GuestScriptFailureTest
{
    @Test
    void theScriptsExitStatusIsBraidDonesRc() throws Exception
    {
        final GuestResult result = GuestRun.builder()
            .name("guest-script-fails")
            .script("braid_result before-exit yes\necho 'guest says: about to fail'\nexit 7\nbraid_result after-exit yes\n")
            .run();

        assertEquals(7, result.doneRc());
        assertFalse(result.succeeded());
        assertFalse(result.timedOut());
        assertEquals(0, result.qemuExitCode(), "the guest still powered off");
        assertEquals("yes", result.result("before-exit"));
        assertFalse(result.results().containsKey("after-exit"));
        final String why = assertThrows(AssertionError.class, result::assertSucceeded).getMessage();
        assertTrue(why.contains("rc=7") && why.contains("guest says: about to fail") &&
            why.contains(result.consoleLog().toString()), why);
        assertTrue(result.summary().contains("rc=7"), result.summary());
    }
}
