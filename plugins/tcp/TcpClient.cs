using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The TCP transport's client: one connection per server address, shared by every request to it and opened on first
/// use (the handshake included). A closed connection is forgotten, so the next request to the address reconnects.
/// </summary>
internal sealed partial class TcpClient : IRequestPlaneClient
{
    private readonly TcpTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly TlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly Dictionary<Uri, Task<ClientSession>> _sessions = [];
    private readonly Lock _gate = new();
    private readonly HashSet<Uri> _connectedBefore = [];
    private volatile bool _disposed;

    public TcpClient(TcpTransportOptions options, IFrameCodecs codecs, TlsMaterial tls, ArrayPool<byte> pool, ILogger logger)
    {
        _options = options;
        _codecs = codecs;
        _tls = tls;
        _pool = pool;
        _logger = logger;
    }

    /// <inheritdoc />
    public TransportHealth Health => _disposed
        ? new TransportHealth(HealthStatus.Unhealthy, "The TCP client was disposed.")
        : TransportHealth.Healthy;

    /// <inheritdoc />
    public ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        TcpEndpoints.ParseAddress(address);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IResponseStream>(cancellationToken);
        }

        // Checked before a connection is even looked up, so nothing is sent that would be refused.
        var length = request.Payload.Length;
        if (length > _options.MaxPayloadBytes)
        {
            return ValueTask.FromException<IResponseStream>(
                PlexusException.TooLarge("request payload", length, _options.MaxPayloadBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes))));
        }

        if (request.Deadline is { } deadline && deadline <= DateTimeOffset.UtcNow)
        {
            return ValueTask.FromException<IResponseStream>(new PlexusException(
                PlexusErrorCode.Timeout,
                $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before it was sent."));
        }

        var session = GetSession(address);
        if (session.IsCompletedSuccessfully && session.Result.IsUsable)
        {
            return session.Result.SendAsync(request, cancellationToken);
        }

        return SendSlowAsync(address, session, request, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // Streams already returned stay readable: each connection closes once its last stream has ended.
        _disposed = true;
        Task<ClientSession>[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
            _sessions.Clear();
        }

        foreach (var session in sessions)
        {
            if (session.IsCompletedSuccessfully)
            {
                session.Result.CloseWhenIdle();
            }
            else
            {
                _ = session.ContinueWith(static t => t.Result.CloseWhenIdle(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
        }

        return default;
    }

    /// <summary>A connection closed: forget it, so the next request reconnects.</summary>
    public void SessionClosed(ClientSession session)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(session.Address, out var current) && current.IsCompletedSuccessfully && ReferenceEquals(current.Result, session))
            {
                _sessions.Remove(session.Address);
            }
        }
    }

    private async ValueTask<IResponseStream> SendSlowAsync(Uri address, Task<ClientSession> pending, OutgoingRequest request, CancellationToken cancellationToken)
    {
        var session = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!session.IsUsable)
        {
            // Going away or closing: a fresh connection only if that one is already forgotten; otherwise it refuses.
            session = await GetSession(address).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await session.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private Task<ClientSession> GetSession(Uri address)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(address, out var existing) && !existing.IsFaulted && !existing.IsCanceled)
            {
                return existing;
            }

            var connecting = ConnectAsync(address);
            _sessions[address] = connecting;
            return connecting;
        }
    }

    private async Task<ClientSession> ConnectAsync(Uri address)
    {
        await Task.Yield();
        try
        {
            return await (_options.LowLatency ? OpenOnConnectionThreadAsync(address) : OpenAsync(address)).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                if (_sessions.TryGetValue(address, out var current) && current.IsCompleted)
                {
                    _sessions.Remove(address);
                }
            }

            throw;
        }
    }

    private async Task<ClientSession> OpenAsync(Uri address)
    {
        var (host, port, tlsRequested) = TcpEndpoints.ParseAddress(address);
        var useTls = tlsRequested || _tls.Enabled;

        // Before anything is opened: a node outside its cluster, or still joining, has nothing to present.
        var cluster = _tls.Mode == TlsMode.Cluster ? await _tls.Cluster.CurrentForClientAsync(_options.ConnectTimeout).ConfigureAwait(false) : null;
        var socket = IPAddress.TryParse(host, out var ip)
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        Stream? stream = null;
        var refusal = new StrongBox<string?>();
        var phase = "connect";
        try
        {
            socket.NoDelay = true;
            using (var connectTimeout = new CancellationTokenSource(_options.ConnectTimeout))
            {
                try
                {
                    if (ConnectionThreads.IsCurrent)
                    {
                        ConnectOnConnectionThread(socket, ip, host, port, connectTimeout.Token);
                    }
                    else if (ip is not null)
                    {
                        await socket.ConnectAsync(new IPEndPoint(ip, port), connectTimeout.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        await socket.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested)
                {
                    throw Refused($"Connecting to {address} took longer than {TcpTransportOptions.Key(nameof(TcpTransportOptions.ConnectTimeout))} ({_options.ConnectTimeout.TotalMilliseconds} ms); check that the server is reachable.");
                }
            }

            stream = PollingNetworkStream.For(socket, _options);
            using var handshakeTimeout = new CancellationTokenSource(_options.HandshakeTimeout);
            if (useTls)
            {
                phase = "tls";
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var sslOptions = cluster is null ? _tls.ClientOptions(host, refusal) : _tls.Cluster.ClientOptions(cluster, host, refusal);
                try
                {
                    await ssl.AuthenticateAsClientAsync(sslOptions, handshakeTimeout.Token).ConfigureAwait(false);
                }
                catch (AuthenticationException) when (cluster is not null && refusal.Value is { } problem)
                {
                    TcpLog.ClusterServerRefused(_logger, address, problem);
                    throw Refused($"TLS with {address} failed: the server's certificate is not from this cluster's CA: {problem}. Is {address} a node of another cluster?");
                }
            }

            phase = "handshake";
            var input = PipeOptionsFactory.Reader(stream);
            var output = PipeOptionsFactory.Writer(stream);
            var codec = _codecs.Default;
            var local = PeerSettings.From(_options, codec.Name, server: false);
            var highest = _options.MaxProtocolVersion;
            Handshake.WriteHello(output, local, highest);
            await output.FlushAsync(handshakeTimeout.Token).ConfigureAwait(false);
            var reply = await Handshake.ReadAsync(input, handshakeTimeout.Token).ConfigureAwait(false);
            if (reply.Kind == Wire.Reject)
            {
                var (reason, message) = Handshake.ParseReject(reply.Body);
                if (reason == Wire.RejectNotMember)
                {
                    // Not a protocol fault: this node's certificate is not from the server's cluster.
                    throw Refused($"{address} refused this node: {message}");
                }

                throw new PlexusException(PlexusErrorCode.ProtocolError, $"{address} refused the connection at the handshake: {message}") { BeforeFirstByte = true };
            }

            if (reply.Version is < Wire.MinVersion || reply.Version > highest)
            {
                // The server chooses from the versions offered; any other answer is not one this client can speak.
                throw new PlexusException(
                    PlexusErrorCode.ProtocolError,
                    $"{address} speaks Plexus TCP protocol version {reply.Version}; this client speaks versions {Wire.MinVersion} to {highest}. Run the same Plexus TCP transport version on both sides.")
                {
                    BeforeFirstByte = true,
                };
            }

            if (reply.Kind != Wire.Accept)
            {
                throw new PlexusException(PlexusErrorCode.ProtocolError, $"{address} answered the handshake with message kind {reply.Kind}, not ACCEPT.") { BeforeFirstByte = true };
            }

            PeerSettings peer;
            try
            {
                peer = Handshake.ParseSettings(reply.Body);
            }
            catch (PlexusException malformed)
            {
                throw new PlexusException(PlexusErrorCode.ProtocolError, $"{address} sent a malformed ACCEPT: {malformed.Message}") { BeforeFirstByte = true };
            }

            if (!string.Equals(peer.CodecName, codec.Name, StringComparison.OrdinalIgnoreCase))
            {
                throw new PlexusException(
                    PlexusErrorCode.ProtocolError,
                    $"{address} accepted with codec '{peer.CodecName}', but this client offered '{codec.Name}'. Set Plexus:RequestPlane:Codec to the same codec on both sides.")
                {
                    BeforeFirstByte = true,
                };
            }

            var connection = new FrameConnection(socket, stream, input, output, codec, local, peer, reply.Version, _options, _pool, _logger, address.Authority, server: false);
            var session = new ClientSession(this, address, connection, _options);
            connection.Start(session);
            stream = null;
            lock (_gate)
            {
                if (!_connectedBefore.Add(address))
                {
                    TcpMetrics.Reconnected();
                }
            }

            return session;
        }
        catch (PlexusException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw Refused($"{address} did not complete the {(phase == "tls" ? "TLS " : string.Empty)}handshake within {TcpTransportOptions.Key(nameof(TcpTransportOptions.HandshakeTimeout))} ({_options.HandshakeTimeout.TotalMilliseconds} ms).");
        }
        catch (AuthenticationException exception)
        {
            throw Refused($"TLS with {address} failed: {refusal.Value ?? exception.Message}", exception);
        }
        catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
        {
            throw phase switch
            {
                "connect" => Refused($"Could not connect to {address}: {exception.Message} Check that the server is running and the address is right.", exception),
                "tls" => Refused($"TLS with {address} failed: {refusal.Value ?? exception.Message}", exception),
                _ when useTls => Refused(
                    $"{address} closed the connection during the handshake, after TLS was set up ({exception.Message}). The server most likely refused this client's certificate: when it sets Tls:ClientCertificateRequired, set {TcpTransportOptions.Key("Tls:CertificatePath")} to a certificate issued by the CA in the server's Tls:CaPath. The server's log says why.",
                    exception),
                _ => Refused($"{address} closed the connection during the handshake ({exception.Message}); is it a Plexus TCP server? The server's log says why.", exception),
            };
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else if (phase == "connect")
            {
                socket.Dispose();
            }
        }
    }

    private static PlexusException Refused(string message, Exception? inner = null) =>
        new(PlexusErrorCode.Unavailable, message, inner) { BeforeFirstByte = true };
}
