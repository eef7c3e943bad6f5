namespace Plexus.Transport.Nats.Client;

/// <summary>
/// The servers a connection may use: the configured ones, in order, then the ones the cluster announced in INFO's
/// <c>connect_urls</c>. Hands them out round-robin and passes over a server in lame-duck mode while another exists.
/// </summary>
internal sealed class NatsServerPool
{
    private readonly Lock _gate = new();
    private readonly List<Uri> _servers = [];
    private readonly HashSet<string> _known = new(StringComparer.OrdinalIgnoreCase);
    private readonly bool _tls;
    private string? _lameDuck;
    private int _next;

    /// <summary>Creates the pool.</summary>
    /// <param name="configured">The configured servers; at least one.</param>
    /// <param name="tls">Whether discovered servers are reached over TLS.</param>
    public NatsServerPool(IReadOnlyList<Uri> configured, bool tls)
    {
        if (configured.Count == 0)
        {
            throw new ArgumentException("At least one NATS server URL is needed.", nameof(configured));
        }

        _tls = tls;
        foreach (var server in configured)
        {
            if (_known.Add(Key(server)))
            {
                _servers.Add(server);
            }
        }
    }

    /// <summary>The servers known now, configured first.</summary>
    public IReadOnlyList<Uri> Servers
    {
        get
        {
            lock (_gate)
            {
                return [.. _servers];
            }
        }
    }

    /// <summary>Adds the servers of INFO's <c>connect_urls</c> (<c>host:port</c>) not known yet.</summary>
    /// <param name="connectUrls">The announced addresses.</param>
    public void AddDiscovered(IReadOnlyList<string> connectUrls)
    {
        lock (_gate)
        {
            foreach (var hostPort in connectUrls)
            {
                if (Uri.TryCreate($"{(_tls ? "tls" : "nats")}://{hostPort}", UriKind.Absolute, out var uri) && _known.Add(Key(uri)))
                {
                    _servers.Add(uri);
                }
            }
        }
    }

    /// <summary>Marks a server as going away, so reconnects prefer the others.</summary>
    /// <param name="server">The server in lame-duck mode.</param>
    public void MarkLameDuck(Uri server)
    {
        lock (_gate)
        {
            _lameDuck = Key(server);
        }
    }

    /// <summary>The next server to try.</summary>
    /// <returns>The server.</returns>
    public Uri Next()
    {
        lock (_gate)
        {
            for (var tries = 0; tries < _servers.Count; tries++)
            {
                var candidate = _servers[_next % _servers.Count];
                _next = (_next + 1) % _servers.Count;
                if (_servers.Count == 1 || !string.Equals(Key(candidate), _lameDuck, StringComparison.OrdinalIgnoreCase))
                {
                    return candidate;
                }
            }

            return _servers[0];
        }
    }

    /// <summary>Makes <paramref name="server"/> the one after which <see cref="Next"/> continues.</summary>
    /// <param name="server">The server now connected.</param>
    public void ConnectedTo(Uri server)
    {
        lock (_gate)
        {
            var index = _servers.FindIndex(s => string.Equals(Key(s), Key(server), StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                _next = (index + 1) % _servers.Count;
            }

            if (string.Equals(_lameDuck, Key(server), StringComparison.OrdinalIgnoreCase))
            {
                _lameDuck = null;
            }
        }
    }

    private static string Key(Uri server) => $"{server.Host}:{NatsLink.PortOf(server)}";
}
