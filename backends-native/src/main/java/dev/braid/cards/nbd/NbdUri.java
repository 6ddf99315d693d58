package dev.braid.cards.nbd;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An NBD URI as NetworkBlockDevice/nbd doc/uri.md writes them, in the two forms Braid serves:
 * {@code nbd://HOST[:PORT][/EXPORT]} (TCP, port 10809 by default) and
 * {@code nbd+unix:///[EXPORT]?socket=PATH} (a unix domain socket). Immutable.
 * {@link #parse} throws {@link IllegalArgumentException} with one line naming the bad part.
 */
public final class NbdUri
{
    public static final int DEFAULT_PORT = 10809;

    private final String host;
    private final int port;
    private final String socketPath;
    private final String exportName;

    private NbdUri(final String host, final int port, final String socketPath, final String exportName)
    {
        this.host = host;
        this.port = port;
        this.socketPath = socketPath;
        this.exportName = exportName;
    }

    public static NbdUri parse(final String text)
    {
        Objects.requireNonNull(text, "uri");
        final URI uri;
        try
        {
            uri = new URI(text);
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalArgumentException("bad NBD URI '" + text + "': " + ex.getReason() + " at index " + ex.getIndex());
        }
        final String scheme = uri.getScheme();
        if (null == scheme || uri.isOpaque())
        {
            throw new IllegalArgumentException("bad NBD URI '" + text + "': expected nbd://HOST:PORT/EXPORT or nbd+unix:///EXPORT?socket=PATH");
        }
        final String exportName = exportName(text, uri.getRawPath());
        switch (scheme)
        {
            case "nbd":
            {
                if (null != uri.getRawQuery())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': unsupported query '" + uri.getRawQuery() + "' (nbd:// takes none)");
                }
                if (null == uri.getRawAuthority())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': no host (expected nbd://HOST:PORT/EXPORT)");
                }
                final String host = uri.getHost();
                if (null == host || host.isEmpty())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': bad host or port '" + uri.getRawAuthority() + "'");
                }
                if (null != uri.getRawUserInfo())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': user info '" + uri.getRawUserInfo() + "' is not supported");
                }
                final int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
                if (port == 0 || port > 65535)
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': port " + port + " is not 1..65535");
                }
                final String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
                return new NbdUri(bare, port, null, exportName);
            }
            case "nbd+unix":
            {
                if (null != uri.getRawAuthority())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': nbd+unix takes no host, found '" + uri.getRawAuthority() + "'");
                }
                final String query = uri.getRawQuery();
                if (null == query || !query.startsWith("socket=") || query.length() == "socket=".length())
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': nbd+unix needs ?socket=PATH, found query '" + query + "'");
                }
                final String socket = URLDecoder.decode(query.substring("socket=".length()), StandardCharsets.UTF_8);
                if (socket.indexOf('&') >= 0 || query.indexOf('&') >= 0)
                {
                    throw new IllegalArgumentException("bad NBD URI '" + text + "': unsupported query '" + query + "' (only socket=PATH)");
                }
                return new NbdUri(null, -1, socket, exportName);
            }
            default:
                throw new IllegalArgumentException("bad NBD URI '" + text + "': scheme '" + scheme + "' is not nbd or nbd+unix");
        }
    }

    private static String exportName(final String text, final String rawPath)
    {
        if (null == rawPath || rawPath.isEmpty() || rawPath.equals("/"))
        {
            return "";
        }
        final String name = URLDecoder.decode(rawPath.substring(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        if (name.getBytes(StandardCharsets.UTF_8).length > 4096)
        {
            throw new IllegalArgumentException("bad NBD URI '" + text + "': export name longer than 4096 bytes");
        }
        return name;
    }

    public boolean isUnixSocket()
    {
        return null != socketPath;
    }

    /** Host for TCP, null for a unix socket. */
    public String host()
    {
        return host;
    }

    /** Port for TCP, -1 for a unix socket. */
    public int port()
    {
        return port;
    }

    /** Socket path for nbd+unix, null for TCP. */
    public String socketPath()
    {
        return socketPath;
    }

    /** The export name ("" is the server's default export). */
    public String exportName()
    {
        return exportName;
    }

    public String toString()
    {
        return isUnixSocket() ?
            "nbd+unix:///" + exportName + "?socket=" + socketPath :
            "nbd://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/" + exportName;
    }
}
