package dev.braid.testkit.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * fio with verify inside a guest (the host's fio, copied in with {@code hostBinary("fio")}): the
 * script that writes 4 KiB random O_DIRECT blocks with crc32c headers and reads every one back, the
 * results it reports, and the check that they are clean.
 */
public final class GuestFio
{
    private GuestFio()
    {
    }

    /**
     * Script lines: wait for {@code device}, report {@code started}, run fio over 8 MiB at depth 8
     * ({@code extraOptions} appended, e.g. a rate limit), then report fio-rc, fio-err,
     * fio-verify-failures, fio-issued and the kernel's I/O errors; the script's own status is fio's.
     */
    public static String verifyScript(final String device, final String extraOptions)
    {
        return String.join("\n",
            "braid_wait " + device + " || { echo no " + device + "; exit 3; }",
            "braid_result started 1",
            "fio --name=v --filename=" + device + " --thread --ioengine=libaio --iodepth=8 --direct=1 --rw=randwrite " +
                "--bs=4k --size=8M " + extraOptions + " --verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio.out",
            "rc=$?",
            "cat /tmp/fio.out",
            "braid_result fio-rc $rc",
            // The job line: "v: (groupid=0, jobs=1): err= 0: pid=..."
            "braid_result fio-err $(grep -o 'err= *[0-9]*' /tmp/fio.out | head -1 | tr -d ' ')",
            "braid_result fio-verify-failures $(grep -c -i -E 'verify.*(fail|bad)|bad magic|crc32c.*(wanted|mismatch)' /tmp/fio.out || true)",
            // Blocks fio wrote, and read back to verify: "issued rwts: total=2048,2048,0,0".
            "braid_result fio-issued $(grep -o 'issued rwts: total=[0-9]*,[0-9]*' /tmp/fio.out | sed 's/.*total=//')",
            "braid_result ioerrors $(dmesg | grep -c 'I/O error' || true)",
            "[ $rc -eq 0 ]",
            "");
    }

    /** The guest finished, fio exited 0 with no error and no verify failure over all 2048 blocks, the kernel saw no I/O error. */
    public static void assertVerified(final GuestResult result)
    {
        result.assertSucceeded();
        assertEquals("0", result.result("fio-rc"), "fio exit status");
        assertEquals("err=0", result.result("fio-err"), "fio's job error");
        assertEquals("0", result.result("fio-verify-failures"), "no verify failure in fio's report");
        assertEquals("2048,2048", result.result("fio-issued"), "fio wrote and verified all 8 MiB in 4 KiB blocks");
        assertEquals("0", result.result("ioerrors"), "no I/O error in the guest's kernel log");
    }
}
