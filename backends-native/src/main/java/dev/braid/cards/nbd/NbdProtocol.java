package dev.braid.cards.nbd;

/**
 * Wire constants of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md), fixed newstyle
 * handshake and the transmission phase. All integers on the wire are big-endian.
 *
 * <pre>
 * request (28 bytes + write data)       simple reply (16 + read data)   structured chunk (20 + payload)
 *  0 u32 NBD_REQUEST_MAGIC               0 u32 SIMPLE_REPLY_MAGIC        0 u32 STRUCTURED_REPLY_MAGIC
 *  4 u16 command flags                   4 u32 error                     4 u16 flags (DONE)
 *  6 u16 type                            8 u64 cookie                    6 u16 chunk type
 *  8 u64 cookie                                                          8 u64 cookie
 * 16 u64 offset                                                         16 u32 payload length
 * 24 u32 length
 * </pre>
 */
final class NbdProtocol
{
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;
    static final int FLAG_C_FIXED_NEWSTYLE = 1;
    static final int FLAG_C_NO_ZEROES = 2;

    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;

    static final int REP_ACK = 1;
    static final int REP_INFO = 3;
    static final int REP_FLAG_ERROR = 1 << 31;

    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;

    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_READ_ONLY = 1 << 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    static final int REQUEST_HEADER_LENGTH = 28;
    static final int SIMPLE_REPLY_LENGTH = 16;
    static final int CHUNK_HEADER_LENGTH = 20;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;

    static final int REPLY_FLAG_DONE = 1;
    static final int REPLY_TYPE_NONE = 0;
    static final int REPLY_TYPE_OFFSET_DATA = 1;
    static final int REPLY_TYPE_OFFSET_HOLE = 2;
    static final int REPLY_TYPE_ERROR_BIT = 1 << 15;
    /** Error chunk payloads: 4 error + 2 message length + at most 4096 message + 8 offset. */
    static final int MAX_ERROR_CHUNK = 6 + 4096 + 8;

    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int EOVERFLOW = 75;
    static final int ENOTSUP = 95;

    /** Default maximum payload when the server sends no NBD_INFO_BLOCK_SIZE (proto.md: 32 MiB). */
    static final int DEFAULT_MAX_PAYLOAD = 32 << 20;
    /** Largest option reply the handshake accepts; more is a hostile or broken server. */
    static final int MAX_OPTION_REPLY = 64 << 10;

    private NbdProtocol()
    {
    }

    static String optionReplyName(final int type)
    {
        switch (type)
        {
            case REP_ACK: return "NBD_REP_ACK";
            case REP_INFO: return "NBD_REP_INFO";
            case REP_FLAG_ERROR | 1: return "NBD_REP_ERR_UNSUP";
            case REP_FLAG_ERROR | 2: return "NBD_REP_ERR_POLICY";
            case REP_FLAG_ERROR | 3: return "NBD_REP_ERR_INVALID";
            case REP_FLAG_ERROR | 4: return "NBD_REP_ERR_PLATFORM";
            case REP_FLAG_ERROR | 5: return "NBD_REP_ERR_TLS_REQD";
            case REP_FLAG_ERROR | 6: return "NBD_REP_ERR_UNKNOWN";
            case REP_FLAG_ERROR | 7: return "NBD_REP_ERR_SHUTDOWN";
            case REP_FLAG_ERROR | 8: return "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case REP_FLAG_ERROR | 9: return "NBD_REP_ERR_TOO_BIG";
            default: return "reply-0x" + Integer.toHexString(type);
        }
    }
}
