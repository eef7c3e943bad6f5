using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// The QUIC transport's server: one UDP socket (a <see cref="QuicListener"/>) shared by every endpoint of the process.
/// Each connection whose handshake completed gets a <see cref="QuicServerSession"/> that exchanges SETTINGS and turns
/// each request stream into a call on the dispatcher.
/// </summary>
internal sealed partial class QuicServer : IRequestPlaneServer
{
    // How long a closing server lets streams that already ended (a response's last bytes, an ERROR) reach their
    // peers before it closes the connections under them.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly QuicTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly QuicTlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly ILogger _engineLogger;
    private readonly HashSet<QuicServerSession> _sessions = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private QuicListener? _listener;
    private QuicTlsCredentials? _credentials;
    private ServerState _state;
    private IRequestDispatcher? _dispatcher;

    // The ephemeral certificate served when none is configured, and the trust folder it is published in.
    private QuicEphemeralCertificate? _ephemeral;
    private string? _trustDirectory;

    // Streams admitted whose payload is still arriving; StopAcceptingAsync waits until each is handed over or has ended.
    private readonly QuicHandOverCount _handOver = new();

    public QuicServer(QuicTransportOptions options, IFrameCodecs codecs, QuicTlsMaterial tls, ArrayPool<byte> pool, ILogger logger, ILogger engineLogger)
    {
        _options = options;
        _codecs = codecs;
        _tls = tls;
        _pool = pool;
        _logger = logger;
        _engineLogger = engineLogger;
        QuicEndpoints.TryParseHostPort(options.Bind, null, out var host, out var port, out _);
        Address = QuicEndpoints.Format(host, port);
    }

    /// <inheritdoc />
    public Uri Address { get; private set; }

    /// <summary>The local end the UDP socket is bound to, once started.</summary>
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

    /// <summary>The protocol version of each open client connection, as its ALPN chose it.</summary>
    public IReadOnlyList<byte> SessionVersions
    {
        get
        {
            QuicServerSession[] sessions;
            lock (_gate)
            {
                sessions = [.. _sessions];
            }

            var versions = new byte[sessions.Length];
            for (var i = 0; i < sessions.Length; i++)
            {
                versions[i] = sessions[i].Version;
            }

            return versions;
        }
    }

    /// <summary>Response bytes owed to clients (handed to QUIC and not acknowledged), summed over the open connections.</summary>
    public long OwedBytes
    {
        get
        {
            QuicServerSession[] sessions;
            lock (_gate)
            {
                sessions = [.. _sessions];
            }

            long owed = 0;
            foreach (var session in sessions)
            {
                owed += session.OwedBytes;
            }

            return owed;
        }
    }

    /// <summary>Client connections that owe their client the whole ConnectionSendBufferBytes, so are held back.</summary>
    public int FullSessionCount
    {
        get
        {
            lock (_gate)
            {
                var full = 0;
                foreach (var session in _sessions)
                {
                    full += session.IsSendFull ? 1 : 0;
                }

                return full;
            }
        }
    }

    /// <summary>The settings every session of this server uses.</summary>
    public QuicTransportOptions Options => _options;

    /// <summary>The codecs a session looks the client's offer up in.</summary>
    public IFrameCodecs Codecs => _codecs;

    /// <summary>Where request payloads and response buffers are rented.</summary>
    public ArrayPool<byte> Pool => _pool;

    /// <summary>Where sessions log.</summary>
    public ILogger Logger => _logger;

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

        // Without ngtcp2 and GnuTLS the transport cannot serve: one line saying what to install, as for a bad setting.
        if (Native.QuicNativeLibraries.Problem is { } missing)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(QuicTransportOptions), [missing]);
        }
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Closed:
                    throw new ObjectDisposedException(nameof(QuicServer), $"{Address} has stopped; create a new server.");
                case ServerState.Running or ServerState.Draining:
                    return;
            }
        }

        QuicEndpoints.TryParseHostPort(_options.Bind, null, out var host, out var port, out _);
        var ip = await QuicEndpoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false)
            ?? throw QuicTransportOptions.Unusable(nameof(QuicTransportOptions.Bind), _options.Bind, $"host '{host}' does not resolve; use an IP address such as 0.0.0.0 or [::].");

        int? configuredPort = null;
        string advertisedHost;
        if (!string.IsNullOrWhiteSpace(_options.AdvertisedAddress))
        {
            QuicEndpoints.TryParseHostPort(_options.AdvertisedAddress, 0, out advertisedHost, out var advertisedPort, out _);
            configuredPort = advertisedPort == 0 ? null : advertisedPort;
        }
        else
        {
            advertisedHost = QuicEndpoints.DefaultAdvertisedHost(ip);
        }

        ClusterCertificate? cluster = null;
        if (_tls.IsCluster)
        {
            if (_tls.Identity is not { IsConfigured: true } identity)
            {
                throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(QuicTransportOptions), [QuicTlsMaterial.NotInCluster]);
            }

            // Listening without the certificate would refuse every peer; a node still joining starts serving once it has one.
            cluster = await identity.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var ephemeral = !_tls.IsCluster && _tls.CertificatePem is null ? QuicEphemeralCertificate.Create(advertisedHost, ip) : null;
        var credentials = cluster is not null ? ClusterServerCredentials(cluster)
            : ephemeral is null ? _tls.CreateServerCredentials(_tls.CertificatePem!, _tls.KeyPem!)
            : _tls.CreateServerCredentials(ephemeral.CertificatePem, ephemeral.KeyPem);
        QuicListener listener;
        try
        {
            listener = QuicListener.Start(new IPEndPoint(ip, port), credentials, _options.ConnectionSettings(server: true), _engineLogger, TimeProvider.System);
        }
        catch (SocketException exception)
        {
            credentials.Dispose();
            throw QuicTransportOptions.Unusable(nameof(QuicTransportOptions.Bind), _options.Bind, exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => $"the address is in use: another socket already has UDP port {port}; choose another port (0 picks a free one) or stop the process that holds it.",
                SocketError.AddressNotAvailable => $"no network interface of this machine has the address {ip}; use one it has, or 0.0.0.0 or [::] for all of them.",
                SocketError.AccessDenied => $"permission to use UDP port {port} was denied; ports below 1024 need privileges, so use a higher port.",
                _ => $"the QUIC transport could not bind there ({exception.SocketErrorCode}: {exception.Message}).",
            });
        }
        catch
        {
            credentials.Dispose();
            throw;
        }

        var bound = listener.LocalEndPoint;
        var started = false;
        lock (_gate)
        {
            if (_state == ServerState.Created)
            {
                _listener = listener;
                _credentials = credentials;
                _dispatcher = dispatcher;
                _ephemeral = ephemeral;
                BoundEndPoint = bound;
                Address = QuicEndpoints.Format(advertisedHost, configuredPort ?? bound.Port);
                _state = ServerState.Running;
                started = true;
            }
        }

        if (!started)
        {
            // Disposed while starting.
            await listener.DisposeAsync().ConfigureAwait(false);
            credentials.Dispose();
            return;
        }

        PublishTrust(ephemeral);
        if (_tls.IsCluster)
        {
            _tls.Identity!.Changed += OnClusterCertificateChanged;

            // A renewal between the wait and the subscription would otherwise go unseen.
            OnClusterCertificateChanged(this, EventArgs.Empty);
        }

        QuicLog.Listening(_logger, bound.ToString(), Address);
        _ = Task.Run(AcceptLoopAsync, CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        QuicServerSession[] sessions;
        QuicListener? listener;
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
            listener = _listener;
        }

        // New connections are ignored from here; each session sends GOAWAY and refuses later request streams.
        listener?.StopAccepting();
        foreach (var session in sessions)
        {
            session.GoAway();
        }

        await _handOver.NoneLeftAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        QuicServerSession[] sessions;
        QuicListener? listener;
        QuicTlsCredentials? credentials;
        lock (_gate)
        {
            _state = ServerState.Closed;
            sessions = [.. _sessions];
            listener = _listener;
            credentials = _credentials;
            _listener = null;
            _credentials = null;
        }

        if (_tls.IsCluster && _tls.Identity is { } clusterIdentity)
        {
            clusterIdentity.Changed -= OnClusterCertificateChanged;
        }

        _stopping.Cancel();
        listener?.StopAccepting();

        // Streams still running are reset with SHUTDOWN (their handlers' tokens fire); streams that already ended get
        // a moment to reach their clients; then every connection ends with CONNECTION_CLOSE NO_ERROR.
        foreach (var session in sessions)
        {
            session.Shutdown();
        }

        await WaitForStreamsAsync(sessions, CloseGrace).ConfigureAwait(false);
        foreach (var session in sessions)
        {
            session.Close($"{Address} stopped.");
        }

        if (listener is not null)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        // Every connection made from the credentials has been freed with the listener.
        credentials?.Dispose();
        WithdrawTrust();

        // Wakes a StopAcceptingAsync still waiting when the server is closed under it.
        _handOver.Release();
    }

    /// <summary>Streams admitted and not yet handed to the dispatcher.</summary>
    public QuicHandOverCount HandOver => _handOver;

    /// <summary>A session's connection closed.</summary>
    public void SessionClosed(QuicServerSession session)
    {
        lock (_gate)
        {
            _sessions.Remove(session);
        }
    }

    private static async Task WaitForStreamsAsync(QuicServerSession[] sessions, TimeSpan within)
    {
        var giveUp = Environment.TickCount64 + (long)within.TotalMilliseconds;
        foreach (var session in sessions)
        {
            var left = giveUp - Environment.TickCount64;
            if (left <= 0)
            {
                return;
            }

            await session.StreamsEnded.WaitAsync(TimeSpan.FromMilliseconds(left)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
