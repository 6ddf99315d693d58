package dev.braid.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The UDP echo on port 7 that the real-network tests and labs run in their network namespace as
 * the peer a net card's traffic is checked against: python3, one datagram back per datagram.
 */
public final class UdpEcho
{
    public static final int PORT = 7;
    private static final String PROGRAM =
        "import socket\n" +
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" +
        "s.bind(('0.0.0.0', " + PORT + "))\n" +
        "while True:\n" +
        "    data, peer = s.recvfrom(65535)\n" +
        "    s.sendto(data, peer)\n";

    private UdpEcho()
    {
    }

    /** The command that runs the echo (in the foreground, until killed). */
    public static List<String> command()
    {
        return List.of("python3", "-c", PROGRAM);
    }

    /** Waits (up to 10 s) until a UDP socket listens on the port in {@code namespace}; else an IOException. */
    public static void awaitListening(final String namespace) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!listening(namespace).contains(":" + PORT + " "))
        {
            if (System.nanoTime() > deadline)
            {
                throw new IOException("the UDP echo in namespace " + namespace + " did not start");
            }
            Thread.sleep(50);
        }
    }

    private static String listening(final String namespace) throws IOException, InterruptedException
    {
        final Process ss = new ProcessBuilder("ip", "netns", "exec", namespace, "ss", "-ulnH").redirectErrorStream(true).start();
        final String output = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ss.waitFor(30, TimeUnit.SECONDS) || ss.exitValue() != 0)
        {
            ss.destroyForcibly();
            throw new IOException("ss -ulnH in namespace " + namespace + ": " + output.trim());
        }
        return output;
    }
}
