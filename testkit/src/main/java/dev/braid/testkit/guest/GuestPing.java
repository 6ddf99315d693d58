package dev.braid.testkit.guest;

/**
 * The guest script lines of the real-guest net tests (busybox sh): eth0 up with an address, pings
 * to a peer, and the results the host checks, with the key names these lines give them. The peer
 * of Braid's sim segment is 10.99.0.2 and the guest 10.99.0.1/24 ({@link #SIM_PEER},
 * {@link #SIM_GUEST}).
 */
public final class GuestPing
{
    public static final String SIM_PEER = "10.99.0.2";
    public static final String SIM_GUEST = "10.99.0.1/24";

    private GuestPing()
    {
    }

    /** Waits for eth0, brings it up and gives it {@code address} (again after a rebind: an existing address is kept). */
    public static String up(final String address)
    {
        return String.join("\n",
            "braid_wait /sys/class/net/eth0 || { echo no eth0; exit 3; }",
            "ip link set eth0 up",
            "ip addr add " + address + " dev eth0 2>/dev/null || true");
    }

    /**
     * Three pings to {@code peer}, each waited for up to 5 s, before the measured ones: the peer's
     * ARP entry made and the path warm. Result {@code key}: how many were answered.
     */
    public static String warmUp(final String key, final String peer)
    {
        return String.join("\n",
            "ping -c 3 -W 5 " + peer + " > /tmp/warm 2>&1",
            "braid_result " + key + " $(grep -c 'bytes from' /tmp/warm)");
    }

    /**
     * {@code count} pings to {@code peer} every {@code interval} seconds (busybox {@code ping -i},
     * each waited for up to {@code waitSeconds}); results {@code KEY-sent}, {@code KEY-received}
     * and {@code KEY-duplicates} ({@code sent}, {@code received} and {@code duplicates} for an
     * empty key). Its output stays in /tmp/ping.
     */
    public static String ping(final String key, final String peer, final int count, final String interval,
        final int waitSeconds)
    {
        final String prefix = key.isEmpty() ? "" : key + "-";
        return String.join("\n",
            "ping -c " + count + " -i " + interval + " -W " + waitSeconds + " " + peer + " > /tmp/ping 2>&1 || true",
            "tail -3 /tmp/ping",
            "braid_result " + prefix + "sent $(sed -n 's/^\\([0-9]*\\) packets transmitted.*/\\1/p' /tmp/ping)",
            "braid_result " + prefix + "received $(sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p' /tmp/ping)",
            "braid_result " + prefix + "duplicates $(grep -c 'DUP' /tmp/ping)");
    }

    /** Result {@code key}: the sum of eth0's error and drop counters (rx, tx, length errors, rx and tx drops). */
    public static String errors(final String key)
    {
        return "s=/sys/class/net/eth0/statistics; braid_result " + key + " $(( $(cat $s/rx_errors) + $(cat $s/tx_errors) + " +
            "$(cat $s/rx_length_errors) + $(cat $s/rx_dropped) + $(cat $s/tx_dropped) ))";
    }
}
