using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// A QUIC server socket: accepts connections from clients' Initial packets (answering unknown versions with Version
/// Negotiation), completes their handshakes, and hands out the established ones.
/// </summary>
internal sealed class QuicListener : IAsyncDisposable, IUnknownDatagramHandler
{
    private readonly QuicSocket _socket;
    // Replaced on a renewal; connections keep the credentials they were accepted with.
    private volatile QuicTlsCredentials _tls;
    private readonly QuicConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<QuicConnection> _accepted = Channel.CreateUnbounded<QuicConnection>();
    private readonly HashSet<QuicConnection> _connections = [];
    private volatile bool _accepting = true;
    private int _disposed;

    private QuicListener(QuicSocket socket, QuicTlsCredentials tls, QuicConnectionSettings settings, ILogger logger, TimeProvider time)
    {
        _socket = socket;
        _tls = tls;
        _settings = settings;
        _logger = logger;
        _time = time;
    }

    /// <summary>The bound address (with the port chosen when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>Connections open on this listener.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>
    /// Accepts new connections with <paramref name="tls"/> from now on (a renewed certificate). Connections already
    /// accepted keep the credentials they were made with, which they hold until they are freed.
    /// </summary>
    /// <exception cref="ArgumentException">Not server credentials.</exception>
    public void UseCredentials(QuicTlsCredentials tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (!tls.IsServer)
        {
            throw new ArgumentException("A listener needs server credentials.", nameof(tls));
        }

        _tls = tls;
    }

    /// <summary>Binds the UDP socket and starts taking connections.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static QuicListener Start(IPEndPoint bind, QuicTlsCredentials tls, QuicConnectionSettings settings, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (!tls.IsServer)
        {
            throw new ArgumentException("A listener needs server credentials.", nameof(tls));
        }

        QuicNativeLibraries.EnsureAvailable();
        var socket = QuicSocket.Bind(bind, logger);
        var listener = new QuicListener(socket, tls, settings, logger, time);
        socket.Start(listener);
        return listener;
    }

    /// <summary>The next connection whose handshake has completed.</summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    public async ValueTask<QuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(QuicListener));
        }
    }

    /// <summary>Ignores new connection attempts from now on; established connections carry on.</summary>
    public void StopAccepting() => _accepting = false;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _accepting = false;
        _accepted.Writer.TryComplete();
        QuicConnection[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        foreach (var connection in open)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        while (_accepted.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        await _socket.DisposeAsync().ConfigureAwait(false);
    }

    unsafe QuicConnection? IUnknownDatagramHandler.OnUnknownDatagram(QuicSocket socket, ReadOnlySpan<byte> datagram, SocketAddress from, bool unsupportedVersion)
    {
        if (!_accepting)
        {
            return null;
        }

        if (unsupportedVersion)
        {
            SendVersionNegotiation(datagram, from);
            return null;
        }

        ngtcp2_pkt_hd header;
        fixed (byte* p = datagram)
        {
            if (Ngtcp2.ngtcp2_accept(&header, p, (nuint)datagram.Length) != 0)
            {
                // Not a client's first Initial (or a short packet for a connection long gone): no reply.
                return null;
            }
        }

        var remote = (IPEndPoint)new IPEndPoint(from.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(from);
        QuicConnection connection;
        try
        {
            connection = QuicConnection.Accept(socket, remote, header, _tls, _settings, _logger, _time);
        }
        catch (Exception exception) when (exception is IOException or QuicTlsException or InvalidOperationException)
        {
            QuicEngineLog.AcceptFailed(_logger, remote, exception);
            return null;
        }

        lock (_connections)
        {
            _connections.Add(connection);
        }

        _ = HandOverAsync(connection);
        return connection;
    }

    private async Task HandOverAsync(QuicConnection connection)
    {
        await Task.WhenAny(connection.Handshake, connection.Closed).ConfigureAwait(false);
        if (connection.Handshake.IsCompletedSuccessfully && !connection.IsClosed && _accepted.Writer.TryWrite(connection))
        {
            _ = ForgetWhenClosedAsync(connection);
            return;
        }

        _ = connection.Handshake.Exception;
        if (connection.Closed.IsCompleted && connection.Closed.Result.Kind is QuicCloseKind.Tls or QuicCloseKind.PeerTransport or QuicCloseKind.HandshakeTimeout)
        {
            QuicEngineLog.HandshakeRefused(_logger, connection.RemoteEndPoint, connection.Closed.Result.Describe());
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        lock (_connections)
        {
            _connections.Remove(connection);
        }
    }

    private async Task ForgetWhenClosedAsync(QuicConnection connection)
    {
        await connection.Closed.ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
        lock (_connections)
        {
            _connections.Remove(connection);
        }
    }

    private unsafe void SendVersionNegotiation(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        ngtcp2_version_cid vc;
        Span<byte> reply = stackalloc byte[256];
        var versions = stackalloc uint[] { Ngtcp2Constants.NGTCP2_PROTO_VER_V1 };
        fixed (byte* p = datagram)
        fixed (byte* r = reply)
        {
            if (Ngtcp2.ngtcp2_pkt_decode_version_cid(&vc, p, (nuint)datagram.Length, QuicSocket.ConnectionIdLength) != Ngtcp2Constants.NGTCP2_ERR_VERSION_NEGOTIATION)
            {
                return;
            }

            // The reply swaps the ids: its destination is the client's source id.
            var n = Ngtcp2.ngtcp2_pkt_write_version_negotiation(r, (nuint)reply.Length, (byte)Random.Shared.Next(256), vc.scid, vc.scidlen, vc.dcid, vc.dcidlen, versions, 1);
            if (n > 0)
            {
                _socket.Send(reply[..(int)n], from);
            }
        }
    }
}
