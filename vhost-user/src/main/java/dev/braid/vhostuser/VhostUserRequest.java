package dev.braid.vhostuser;

/** Front-end request codes of QEMU's docs/interop/vhost-user.rst, and their names for one-line logs. */
public final class VhostUserRequest
{
    public static final int GET_FEATURES = 1;
    public static final int SET_FEATURES = 2;
    public static final int SET_OWNER = 3;
    public static final int RESET_OWNER = 4;
    public static final int SET_MEM_TABLE = 5;
    public static final int SET_LOG_BASE = 6;
    public static final int SET_LOG_FD = 7;
    public static final int SET_VRING_NUM = 8;
    public static final int SET_VRING_ADDR = 9;
    public static final int SET_VRING_BASE = 10;
    public static final int GET_VRING_BASE = 11;
    public static final int SET_VRING_KICK = 12;
    public static final int SET_VRING_CALL = 13;
    public static final int SET_VRING_ERR = 14;
    public static final int GET_PROTOCOL_FEATURES = 15;
    public static final int SET_PROTOCOL_FEATURES = 16;
    public static final int GET_QUEUE_NUM = 17;
    public static final int SET_VRING_ENABLE = 18;
    public static final int SEND_RARP = 19;
    public static final int NET_SET_MTU = 20;
    public static final int SET_SLAVE_REQ_FD = 21;
    public static final int IOTLB_MSG = 22;
    public static final int SET_VRING_ENDIAN = 23;
    public static final int GET_CONFIG = 24;
    public static final int SET_CONFIG = 25;
    public static final int GET_INFLIGHT_FD = 31;
    public static final int SET_INFLIGHT_FD = 32;
    public static final int RESET_DEVICE = 34;
    public static final int VRING_KICK = 35;
    public static final int GET_MAX_MEM_SLOTS = 36;
    public static final int ADD_MEM_REG = 37;
    public static final int REM_MEM_REG = 38;

    private static final String[] NAMES = new String[39];

    static
    {
        NAMES[GET_FEATURES] = "GET_FEATURES";
        NAMES[SET_FEATURES] = "SET_FEATURES";
        NAMES[SET_OWNER] = "SET_OWNER";
        NAMES[RESET_OWNER] = "RESET_OWNER";
        NAMES[SET_MEM_TABLE] = "SET_MEM_TABLE";
        NAMES[SET_LOG_BASE] = "SET_LOG_BASE";
        NAMES[SET_LOG_FD] = "SET_LOG_FD";
        NAMES[SET_VRING_NUM] = "SET_VRING_NUM";
        NAMES[SET_VRING_ADDR] = "SET_VRING_ADDR";
        NAMES[SET_VRING_BASE] = "SET_VRING_BASE";
        NAMES[GET_VRING_BASE] = "GET_VRING_BASE";
        NAMES[SET_VRING_KICK] = "SET_VRING_KICK";
        NAMES[SET_VRING_CALL] = "SET_VRING_CALL";
        NAMES[SET_VRING_ERR] = "SET_VRING_ERR";
        NAMES[GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES";
        NAMES[SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES";
        NAMES[GET_QUEUE_NUM] = "GET_QUEUE_NUM";
        NAMES[SET_VRING_ENABLE] = "SET_VRING_ENABLE";
        NAMES[SEND_RARP] = "SEND_RARP";
        NAMES[NET_SET_MTU] = "NET_SET_MTU";
        NAMES[SET_SLAVE_REQ_FD] = "SET_SLAVE_REQ_FD";
        NAMES[IOTLB_MSG] = "IOTLB_MSG";
        NAMES[SET_VRING_ENDIAN] = "SET_VRING_ENDIAN";
        NAMES[GET_CONFIG] = "GET_CONFIG";
        NAMES[SET_CONFIG] = "SET_CONFIG";
        NAMES[GET_INFLIGHT_FD] = "GET_INFLIGHT_FD";
        NAMES[SET_INFLIGHT_FD] = "SET_INFLIGHT_FD";
        NAMES[RESET_DEVICE] = "RESET_DEVICE";
        NAMES[VRING_KICK] = "VRING_KICK";
        NAMES[GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS";
        NAMES[ADD_MEM_REG] = "ADD_MEM_REG";
        NAMES[REM_MEM_REG] = "REM_MEM_REG";
    }

    private VhostUserRequest()
    {
    }

    /** The request's name, or {@code #N} for a code this back end does not know. */
    public static String name(final int request)
    {
        return request > 0 && request < NAMES.length && NAMES[request] != null ? NAMES[request] : "#" + Integer.toUnsignedString(request);
    }
}
