using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The TCP transport's server: one listening socket (IPv4, IPv6 or both) shared by every endpoint of the process.
/// Each accepted connection gets a handshake under a timeout (TLS first when configured), then a
/// <see cref="ServerSession"/> that turns its frames into calls on the dispatcher and carries the responses back.
/// </summary>
internal sealed partial class TcpServer : IRequestPlaneServer
{
    // How long a closing server lets frames already queued (the END of a request that just finished, the errors of
    // aborted ones) reach peers that read, before it drops what is left.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly TcpTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly TlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly HashSet<ServerSession> _sessions = [];
    private readonly ConcurrentDictionary<Socket, byte> _handshaking = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Socket? _listener;
    private ServerState _state;
    private IRequestDispatcher? _dispatcher;

    // Streams admitted whose payload is still arriving; StopAcceptingAsync waits until each is handed to the
    // dispatcher or has ended, signalled through _allHandedOver once it is waited for.
    private int _undispatched;
    private TaskCompletionSource? _allHandedOver;

    public TcpServer(TcpTransportOptions options, IFrameCodecs codecs, TlsMaterial tls, ArrayPool<byte> pool, ILogger logger)
    {
        _options = options;
        _codecs = codecs;
        _tls = tls;
        _pool = pool;
        _logger = logger;
        TcpEndpoints.TryParseHostPort(options.Bind, null, out var host, out var port, out _);
        Address = TcpEndpoints.Format(host, port, tls.Enabled);
    }

    /// <inheritdoc />
    public Uri Address { get; private set; }

    /// <summary>The local end the listener is bound to, once started.</summary>
    public IPEndPoint? BoundEndPoint { get; private set; }

    /// <summary>How many client connections are open.</summary>
    public int SessionCount
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Bytes of control frames waiting for their peers, over every open connection.</summary>
    internal long QueuedControlBytes => Sum(static connection => connection.QueuedControlBytes);

    /// <summary>Bytes of REQUEST and DATA frames waiting for their peers, over every open connection.</summary>
    internal long QueuedDataBytes => Sum(static connection => connection.QueuedDataBytes);

    /// <summary>How many connections have stopped reading because their peer does not read what it is owed.</summary>
    internal int PausedSessionCount => (int)Sum(static connection => connection.IsReadingPaused ? 1 : 0);

    /// <inheritdoc />
    public TransportHealth Health
    {
        get
        {
            lock (_gate)
            {
                return _state switch
                {
                    ServerState.Running => TransportHealth.Healthy,
                    ServerState.Draining => new TransportHealth(HealthStatus.Degraded, $"{Address} has stopped accepting: it finishes in-flight requests and takes no new ones."),
                    ServerState.Created => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has not been started."),
                    _ => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has stopped."),
                };
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Closed:
                    throw new ObjectDisposedException(nameof(TcpServer), $"{Address} has stopped; create a new server.");
                case ServerState.Running or ServerState.Draining:
                    return;
            }
        }

        if (_tls.Mode == TlsMode.Cluster)
        {
            // Listening without the certificate would refuse every peer; a node still joining starts serving once it has one.
            await _tls.Cluster.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_tls.Enabled && _tls.Certificate is null)
        {
            throw new InvalidOperationException(
                $"{TcpTransportOptions.Key("Tls:Enabled")} is true but no certificate is configured; set {TcpTransportOptions.Key("Tls:CertificatePath")} (and {TcpTransportOptions.Key("Tls:KeyPath")} for a PEM key in its own file).");
        }

        TcpEndpoints.TryParseHostPort(_options.Bind, null, out var host, out var port, out _);
        var ip = await ResolveAsync(host, _options.Bind, cancellationToken).ConfigureAwait(false);
        var listener = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Equals(IPAddress.IPv6Any))
            {
                // [::] takes IPv4 clients too.
                listener.DualMode = true;
            }

            listener.Bind(new IPEndPoint(ip, port));
            listener.Listen(1024);
        }
        catch (SocketException exception)
        {
            listener.Dispose();
            throw TcpTransportOptions.Unusable(nameof(TcpTransportOptions.Bind), _options.Bind, exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => $"the address is in use: another socket already listens on port {port}; choose another port (0 picks a free one) or stop the process that holds it.",
                SocketError.AddressNotAvailable => $"no network interface of this machine has the address {ip}; use one it has, or 0.0.0.0 or [::] for all of them.",
                SocketError.AccessDenied => $"permission to listen on port {port} was denied; ports below 1024 need privileges, so use a higher port.",
                _ => $"the TCP transport could not listen there ({exception.SocketErrorCode}: {exception.Message}).",
            });
        }

        var bound = (IPEndPoint)listener.LocalEndPoint!;
        string advertisedHost;
        var advertisedPort = bound.Port;
        if (!string.IsNullOrWhiteSpace(_options.AdvertisedAddress))
        {
            TcpEndpoints.TryParseHostPort(_options.AdvertisedAddress, 0, out advertisedHost, out var configuredPort, out _);
            advertisedPort = configuredPort == 0 ? bound.Port : configuredPort;
        }
        else
        {
            advertisedHost = TcpEndpoints.DefaultAdvertisedHost(ip);
        }

        lock (_gate)
        {
            if (_state != ServerState.Created)
            {
                listener.Dispose();
                return;
            }

            _listener = listener;
            _dispatcher = dispatcher;
            BoundEndPoint = bound;
            Address = TcpEndpoints.Format(advertisedHost, advertisedPort, _tls.Enabled);
            _state = ServerState.Running;
        }

        TcpLog.Listening(_logger, bound.ToString(), Address);
        _ = Task.Run(AcceptLoopAsync, CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        ServerSession[] sessions;
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Created:
                    _state = ServerState.Closed;
                    return;
                case ServerState.Running:
                    _state = ServerState.Draining;
                    break;
            }

            sessions = [.. _sessions];
        }

        // New connections are refused from here; connections still in their handshake are turned away. Each session
        // sends GOAWAY, refuses later REQUESTs, and closes once its last stream has ended.
        StopListening();
        foreach (var session in sessions)
        {
            session.GoAway();
        }

        // Published before the count is read, and HandedOver reads it after lowering the count: one of the two sees the other.
        Interlocked.CompareExchange(ref _allHandedOver, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        var handedOver = _allHandedOver!;
        if (Volatile.Read(ref _undispatched) == 0)
        {
            handedOver.TrySetResult();
        }

        await handedOver.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        ServerSession[] sessions;
        lock (_gate)
        {
            _state = ServerState.Closed;
            sessions = [.. _sessions];
        }

        StopListening();
        var error = PlexusException.Unavailable($"{Address} stopped while the request was in flight.");
        foreach (var session in sessions)
        {
            session.AbortAll(error);
        }

        // Connections close once their queued frames are on the wire; a peer that does not read is not waited for.
        await WaitForSessionsAsync(CloseGrace).ConfigureAwait(false);
        lock (_gate)
        {
            sessions = [.. _sessions];
            _sessions.Clear();
        }

        foreach (var session in sessions)
        {
            session.Connection.Abort(error);
        }

        // Wakes a StopAcceptingAsync still waiting when the server is closed under it.
        Volatile.Read(ref _allHandedOver)?.TrySetResult();
    }

    /// <summary>A session took a new stream; it counts until it is handed to the dispatcher or ends.</summary>
    public void Admitted() => Interlocked.Increment(ref _undispatched);

    /// <summary>An admitted stream was handed to the dispatcher, or ended before it was.</summary>
    public void HandedOver()
    {
        if (Interlocked.Decrement(ref _undispatched) == 0)
        {
            Volatile.Read(ref _allHandedOver)?.TrySetResult();
        }
    }

    /// <summary>A session's connection closed.</summary>
    public void SessionClosed(ServerSession session)
    {
        lock (_gate)
        {
            _sessions.Remove(session);
        }
    }

    private static async ValueTask<IPAddress> ResolveAsync(string host, string bind, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            if (addresses.Length > 0)
            {
                return addresses[0];
            }
        }
        catch (SocketException)
        {
            // Reported below with the setting to fix.
        }

        throw TcpTransportOptions.Unusable(nameof(TcpTransportOptions.Bind), bind, $"host '{host}' does not resolve; use an IP address such as 0.0.0.0 or [::].");
    }

    private long Sum(Func<FrameConnection, long> measure)
    {
        long total = 0;
        lock (_gate)
        {
            foreach (var session in _sessions)
            {
                total += measure(session.Connection);
            }
        }

        return total;
    }

    private async Task WaitForSessionsAsync(TimeSpan within)
    {
        var giveUp = Environment.TickCount64 + (long)within.TotalMilliseconds;
        while (Environment.TickCount64 < giveUp)
        {
            lock (_gate)
            {
                if (_sessions.Count == 0)
                {
                    return;
                }
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private void StopListening()
    {
        Socket? listener;
        lock (_gate)
        {
            listener = _listener;
            _listener = null;
        }

        // Cancel first, so the accept loop reads the listener's end as a stop and not as a failure.
        _stopping.Cancel();
        listener?.Dispose();
        foreach (var socket in _handshaking.Keys)
        {
            socket.Dispose();
        }
    }
}
