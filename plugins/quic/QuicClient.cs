using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// The QUIC transport's client: one QUIC connection per server address, shared by every request to it and opened on
/// first use (handshake and SETTINGS included). A closed connection is forgotten, so the next request to the address
/// connects again; one the server sent GOAWAY on refuses new requests (before the first byte) until the server closes it.
/// </summary>
internal sealed class QuicClient : IRequestPlaneClient
{
    // QUIC's CRYPTO_ERROR range starts here (0x100 + the TLS alert).
    private const ulong CryptoError = 0x100;

    private readonly QuicTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly QuicTlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly ILogger _engineLogger;
    // One connection per address, opened on first use: the Lazy makes sure racing first requests open only one.
    private readonly ConcurrentDictionary<Uri, Lazy<Task<QuicClientSession>>> _sessions = new();
    private readonly ConcurrentDictionary<Uri, byte> _connectedBefore = new();
    private readonly Func<Uri, Lazy<Task<QuicClientSession>>> _connect;
    private readonly Lock _gate = new();
    private QuicTlsCredentials? _credentials;
    private readonly Dictionary<Uri, (string Pem, QuicTlsCredentials Credentials)> _ephemeralCredentials = [];
    private volatile bool _disposed;

    public QuicClient(QuicTransportOptions options, IFrameCodecs codecs, QuicTlsMaterial tls, ArrayPool<byte> pool, ILogger logger, ILogger engineLogger)
    {
        _options = options;
        _codecs = codecs;
        _tls = tls;
        _pool = pool;
        _logger = logger;
        _engineLogger = engineLogger;
        _connect = address => new Lazy<Task<QuicClientSession>>(() => ConnectAsync(address));
    }

    /// <summary>The settings every connection of this client uses.</summary>
    public QuicTransportOptions Options => _options;

    /// <summary>Where response messages larger than a frame are assembled.</summary>
    public ArrayPool<byte> Pool => _pool;

    /// <inheritdoc />
    public TransportHealth Health => _disposed
        ? new TransportHealth(HealthStatus.Unhealthy, "The QUIC client was disposed.")
        : TransportHealth.Healthy;

    /// <inheritdoc />
    public ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        QuicEndpoints.ParseAddress(address);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IResponseStream>(cancellationToken);
        }

        // Checked before a connection is even looked up, so nothing is sent that would be refused.
        var length = request.Payload.Length;
        if (length > _options.MaxPayloadBytes)
        {
            return ValueTask.FromException<IResponseStream>(
                PlexusException.TooLarge("request payload", length, _options.MaxPayloadBytes, QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxPayloadBytes))));
        }

        if (request.Deadline is { } deadline && deadline <= DateTimeOffset.UtcNow)
        {
            return ValueTask.FromException<IResponseStream>(new PlexusException(
                PlexusErrorCode.Timeout,
                $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before it was sent."));
        }

        var session = Session(address);
        return session.IsCompletedSuccessfully && session.Result.IsUsable
            ? session.Result.SendAsync(request, cancellationToken)
            : SendSlowAsync(address, session, request, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // Streams already returned stay readable: each connection closes once its last stream has ended.
        _disposed = true;
        foreach (var (address, pending) in _sessions)
        {
            _sessions.TryRemove(KeyValuePair.Create(address, pending));
            if (pending.IsValueCreated)
            {
                _ = pending.Value.ContinueWith(static t => t.Result.CloseWhenIdle(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
        }

        return default;
    }

    /// <summary>A connection closed: forget it, so the next request connects again.</summary>
    public void SessionClosed(QuicClientSession session)
    {
        if (_sessions.TryGetValue(session.Address, out var pending) && pending.IsValueCreated && pending.Value.IsCompletedSuccessfully && ReferenceEquals(pending.Value.Result, session))
        {
            _sessions.TryRemove(KeyValuePair.Create(session.Address, pending));
        }
    }

    private async ValueTask<IResponseStream> SendSlowAsync(Uri address, Task<QuicClientSession> pending, OutgoingRequest request, CancellationToken cancellationToken)
    {
        var session = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!session.IsUsable)
        {
            // Closed: a fresh connection if that one is already forgotten; going away: it refuses, before the first byte.
            session = await Session(address).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await session.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    // The address's connection, or the attempt to open it; a failed attempt is replaced by a new one.
    private Task<QuicClientSession> Session(Uri address)
    {
        var pending = _sessions.GetOrAdd(address, _connect);
        if (pending.Value is { IsFaulted: false, IsCanceled: false } session)
        {
            return session;
        }

        _sessions.TryRemove(KeyValuePair.Create(address, pending));
        return _sessions.GetOrAdd(address, _connect).Value;
    }

    private async Task<QuicClientSession> ConnectAsync(Uri address)
    {
        // Off the caller's thread: the first request to an address should not run the handshake's setup inline.
        await Task.Yield();
        var session = await OpenAsync(address).ConfigureAwait(false);
        if (!_connectedBefore.TryAdd(address, 0))
        {
            QuicMetrics.Reconnected();
        }

        return session;
    }

    private async Task<QuicClientSession> OpenAsync(Uri address)
    {
        var (host, port) = QuicEndpoints.ParseAddress(address);
        var ip = await QuicEndpoints.ResolveAsync(host, CancellationToken.None).ConfigureAwait(false)
            ?? throw Refused($"Could not connect to {address}: host '{host}' does not resolve. Check the address.");
        var remote = new IPEndPoint(ip, port);
        var serverName = _tls.ServerName ?? host;
        var ephemeral = _tls.IsCluster ? null : EphemeralCredentials(address);
        var credentials = ephemeral ?? (_tls.IsCluster ? await ClusterCredentialsAsync().ConfigureAwait(false) : DefaultCredentials());
        QuicConnection connection;
        try
        {
            connection = await HandshakeAsync(address, remote, serverName, credentials, retryable: ephemeral is not null).ConfigureAwait(false);
        }
        catch (QuicConnectionClosedException refused)
        {
            // The server there no longer presents the certificate published for it (a stale file): trust as usual.
            QuicLog.EphemeralTrustIgnored(_logger, address, $"the server presents another certificate ({refused.Message}); connecting with the usual trust instead");
            credentials = DefaultCredentials();
            connection = await HandshakeAsync(address, remote, serverName, credentials, retryable: false).ConfigureAwait(false);
        }

        var session = new QuicClientSession(this, address, connection, credentials, _codecs.Default);
        try
        {
            await session.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return session;
    }

    // The QUIC handshake; a TLS refusal of the server's certificate is thrown as is when it may be retried with other trust.
    private async Task<QuicConnection> HandshakeAsync(Uri address, IPEndPoint remote, string serverName, QuicTlsCredentials credentials, bool retryable)
    {
        try
        {
            return await QuicConnection.ConnectAsync(remote, serverName, credentials, _options.ConnectionSettings(server: false), _engineLogger, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
        }
        catch (QuicConnectionClosedException closed) when (!retryable || closed.Info.Kind != QuicCloseKind.Tls)
        {
            if (_tls.IsCluster && closed.Info.Kind == QuicCloseKind.Tls)
            {
                QuicLog.ClusterServerRefused(_logger, address, closed.Info.Reason);
            }

            throw Refused(DescribeConnectFailure(address, closed.Info, serverName), closed);
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
        {
            throw Refused($"Could not connect to {address}: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Why a connection failed before it was ready, and what to do. With TLS 1.3 a client's handshake completes before
    /// the server has checked the client's certificate, so a mutual-TLS refusal arrives as the connection's close
    /// while SETTINGS are exchanged; it is described here all the same.
    /// </summary>
    public string DescribeConnectFailure(Uri address, QuicCloseInfo info, string? serverName = null) => info.Kind switch
    {
        QuicCloseKind.Tls when _tls.IsCluster => $"TLS with {address} failed: {info.Describe()}. Is {address} a node of another cluster? This node accepts only servers with a certificate from its cluster's CA ({QuicTransportOptions.Key("Tls:Mode")}=cluster).",
        QuicCloseKind.PeerTransport when _tls.IsCluster && info.ErrorCode is >= CryptoError and < CryptoError + 0x100 =>
            $"{address} refused this node in the TLS handshake: {info.Describe()}. The server does not take this node for a member of its cluster: the certificate this node presented is not from that cluster's CA, or no longer valid.",
        QuicCloseKind.Tls => $"TLS with {address} failed: {info.Describe()}. " + (_tls.CaPem is null
            ? $"This client trusts the system's CAs and the ephemeral certificates servers on this machine publish; set {QuicTransportOptions.Key("Tls:CaPath")} to the CA that issued the server's certificate (a server without Tls:CertificatePath serves an ephemeral certificate that only clients on its own machine trust)."
            : $"Check that {QuicTransportOptions.Key("Tls:CaPath")} holds the CA that issued the server's certificate and that the certificate names '{serverName ?? _tls.ServerName ?? address.DnsSafeHost}' (or set {QuicTransportOptions.Key("Tls:ServerName")})."),
        QuicCloseKind.PeerTransport when info.ErrorCode is >= CryptoError and < CryptoError + 0x100 => $"{address} refused this client in the TLS handshake: {info.Describe()}. " + (_tls.CertificatePem is null
            ? $"If the server requires client certificates (Tls:ClientCertificateRequired), set {QuicTransportOptions.Key("Tls:CertificatePath")} and {QuicTransportOptions.Key("Tls:KeyPath")} to a certificate issued by the CA in the server's Tls:CaPath."
            : $"The server does not accept the certificate in {QuicTransportOptions.Key("Tls:CertificatePath")}: it must be issued by the CA in the server's Tls:CaPath."),
        QuicCloseKind.PeerApplication or QuicCloseKind.Local or QuicCloseKind.Disposed => $"The connection to {address} closed before it was ready: {info.Describe()}.",
        _ => $"Could not connect to {address}: {info.Describe()}. Check that the server is running and the address is right.",
    };

    // Credentials of the node's current cluster certificate, made again once the identity renewed it. Connections made
    // with the previous ones keep them (QuicClientSession holds its own); nothing else refers to them then.
    private async ValueTask<QuicTlsCredentials> ClusterCredentialsAsync()
    {
        var current = await _tls.ClusterCertificateForClientAsync(_options.HandshakeTimeout).ConfigureAwait(false);
        lock (_gate)
        {
            if (_credentials is not null && ReferenceEquals(_credentials.Cluster, current))
            {
                return _credentials;
            }
        }

        var created = QuicTlsMaterial.CreateClusterClientCredentials(current);
        lock (_gate)
        {
            if (_credentials is not null && ReferenceEquals(_credentials.Cluster, current))
            {
                created.Dispose();
                return _credentials;
            }

            _credentials = created;
            return created;
        }
    }

    private QuicTlsCredentials DefaultCredentials()
    {
        lock (_gate)
        {
            if (_credentials is not null)
            {
                return _credentials;
            }
        }

        var created = _tls.CreateClientCredentials(trustedPem: null);
        lock (_gate)
        {
            if (_credentials is null)
            {
                _credentials = created;
                return created;
            }
        }

        created.Dispose();
        return _credentials;
    }

    // Credentials that trust only the ephemeral certificate a server on this machine published for exactly this
    // address; null when a CA is configured (then only it is trusted) or nothing usable is published.
    private QuicTlsCredentials? EphemeralCredentials(Uri address)
    {
        if (_tls.CaPem is not null || (_options.EphemeralTrustDirectory ?? QuicEphemeralTrust.DefaultDirectory()) is not { } directory)
        {
            return null;
        }

        var pem = QuicEphemeralTrust.Find(directory, address, out var problem);
        if (pem is null)
        {
            if (problem is not null)
            {
                QuicLog.EphemeralTrustIgnored(_logger, address, problem);
            }

            return null;
        }

        lock (_gate)
        {
            if (_ephemeralCredentials.TryGetValue(address, out var cached) && cached.Pem == pem)
            {
                return cached.Credentials;
            }
        }

        // Replaced when the server there restarted with a new certificate; connections made with the old credentials
        // keep them alive (QuicClientSession holds its own).
        var credentials = _tls.CreateClientCredentials(pem);
        lock (_gate)
        {
            _ephemeralCredentials[address] = (pem, credentials);
        }

        return credentials;
    }

    private static PlexusException Refused(string message, Exception? inner = null) =>
        new(PlexusErrorCode.Unavailable, message, inner) { BeforeFirstByte = true };
}
