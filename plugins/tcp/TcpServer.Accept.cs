using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;

namespace Plexus.Transport.Tcp;

/// <summary>Accepting connections: the accept loop and each connection's handshake, TLS first when configured.</summary>
internal sealed partial class TcpServer
{
    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket? listener;
            lock (_gate)
            {
                listener = _listener;
            }

            if (listener is null)
            {
                return;
            }

            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                // Out of descriptors or a connection reset before accept: keep listening, a little later.
                TcpLog.AcceptFailed(_logger, $"{exception.SocketErrorCode}: {exception.Message}");
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }

            StartConnection(socket);
        }
    }

    private async Task AcceptConnectionAsync(Socket socket)
    {
        var peer = socket.RemoteEndPoint?.ToString() ?? "an unknown peer";
        _handshaking.TryAdd(socket, 0);
        Stream stream = PollingNetworkStream.For(socket, _options);
        var refusal = new StrongBox<string?>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_options.HandshakeTimeout);
        var handedOver = false;
        try
        {
            socket.NoDelay = true;
            if (_tls.Enabled)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(_tls.ServerOptions(peer, refusal), timeout.Token).ConfigureAwait(false);
            }

            var input = PipeOptionsFactory.Reader(stream);
            var output = PipeOptionsFactory.Writer(stream);
            if (_tls.Mode == TlsMode.Cluster && refusal.Value is { } notMember)
            {
                // Let through TLS only to be told why: TLS alerts carry no text, a REJECT does. Logged first, so a
                // peer that never sends its HELLO is still on record as refused for its certificate.
                TcpLog.ClusterPeerRefused(_logger, peer, notMember);
                await Handshake.ReadAsync(input, timeout.Token).ConfigureAwait(false);
                Handshake.WriteReject(
                    output,
                    Wire.RejectNotMember,
                    $"this node has no certificate from the cluster CA: {notMember}. Put the node in the cluster (Plexus:Cluster:Join=<seed address>) and set Tls:Mode=cluster on its transports.",
                    _options.MaxProtocolVersion);
                await output.FlushAsync(timeout.Token).ConfigureAwait(false);
                return;
            }

            var hello = await Handshake.ReadAsync(input, timeout.Token).ConfigureAwait(false);
            var accepted = await CheckHelloAsync(hello, output, peer, timeout.Token).ConfigureAwait(false);
            if (accepted is not var (codec, version))
            {
                return;
            }

            var local = PeerSettings.From(_options, codec.Name, server: true);
            var peerSettings = Handshake.ParseSettings(hello.Body);

            // The ACCEPT's version byte is the version the connection speaks from here on.
            Handshake.WriteSettings(output, Wire.Accept, local, version);
            await output.FlushAsync(timeout.Token).ConfigureAwait(false);

            var connection = new FrameConnection(socket, stream, input, output, codec, local, peerSettings, version, _options, _pool, _logger, peer, server: true);
            ServerSession session;
            lock (_gate)
            {
                if (_state != ServerState.Running || _dispatcher is null)
                {
                    return;
                }

                session = new ServerSession(this, _dispatcher, connection, _options, _logger);
                _sessions.Add(session);
            }

            handedOver = true;
            connection.Start(session);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            TcpLog.HandshakeRefused(_logger, peer, $"no complete handshake within {TcpTransportOptions.Key(nameof(TcpTransportOptions.HandshakeTimeout))} ({_options.HandshakeTimeout.TotalMilliseconds} ms); the connection was dropped.");
        }
        catch (AuthenticationException exception)
        {
            TcpLog.TlsRefused(_logger, peer, refusal.Value ?? exception.Message);
        }
        catch (PlexusException exception)
        {
            TcpLog.HandshakeRefused(_logger, peer, exception.Message);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            TcpLog.HandshakeRefused(_logger, peer, refusal.Value ?? $"the connection failed during the handshake: {exception.Message}");
        }
        finally
        {
            _handshaking.TryRemove(socket, out _);
            if (!handedOver)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<(IFrameCodec Codec, byte Version)?> CheckHelloAsync(HandshakeMessage hello, System.IO.Pipelines.PipeWriter output, string peer, CancellationToken cancellationToken)
    {
        string? message = null;
        byte reason = 0;
        IFrameCodec? codec = null;
        byte version = 0;
        var highest = _options.MaxProtocolVersion;
        if (hello.Kind != Wire.Hello)
        {
            reason = Wire.RejectMalformed;
            message = $"The first handshake message must be a HELLO (kind {Wire.Hello}); it was kind {hello.Kind}.";
        }
        else if (hello.Version is < Wire.MinVersion || hello.Version > highest)
        {
            // The version byte is the lowest version the client speaks: above ours, there is nothing in common.
            reason = Wire.RejectVersion;
            message = $"The client speaks Plexus TCP protocol version {hello.Version}{(hello.Version < Wire.MinVersion ? string.Empty : " or later")}; this server speaks versions {Wire.MinVersion} to {highest}. Run the same Plexus TCP transport version on both sides.";
        }
        else
        {
            PeerSettings offered;
            try
            {
                offered = Handshake.ParseSettings(hello.Body);
                var offeredHighest = Handshake.OfferedVersion(hello);
                if (offeredHighest < hello.Version)
                {
                    throw PlexusException.Protocol($"The HELLO offers versions {hello.Version} to {offeredHighest}: its highest version is below its lowest.");
                }

                version = Math.Min(offeredHighest, highest);
            }
            catch (PlexusException malformed)
            {
                offered = default;
                reason = Wire.RejectMalformed;
                message = malformed.Message;
            }

            if (message is null && !_codecs.TryGet(offered.CodecName, out codec))
            {
                reason = Wire.RejectCodec;
                message = $"The client offers codec '{offered.CodecName}', which this server does not have (its codec is '{_codecs.Default.Name}'). Set Plexus:RequestPlane:Codec to the same codec on both sides, or add the codec's plugin to the server.";
            }
            else if (message is null && Health.Status != HealthStatus.Healthy)
            {
                reason = Wire.RejectDraining;
                message = $"{Address} is stopping and takes no new connections.";
            }
        }

        if (message is null)
        {
            return (codec!, version);
        }

        TcpLog.HandshakeRefused(_logger, peer, message);
        Handshake.WriteReject(output, reason, message, highest);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }
}
