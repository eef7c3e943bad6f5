using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// One UDP socket and the QUIC connections on it, found by destination connection id. A listener's socket carries
/// every connection it accepts; a client connection has a socket of its own. Datagrams are read by one loop and handed
/// to their connection inline; datagrams that belong to no connection go to the listener, or are dropped.
/// </summary>
internal sealed class QuicSocket : IAsyncDisposable
{
    /// <summary>Length of every connection id this side issues; short-header packets carry no length.</summary>
    public const int ConnectionIdLength = 16;

    private const int ReceiveBufferBytes = 65536;

    // Bounds how long acknowledgements wait behind a flood of datagrams before their connection writes.
    private const int MaxDatagramsPerWrite = 64;

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<ConnectionIdKey, QuicConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private unsafe readonly byte* _localAddress;
    private readonly TaskCompletionSource _receivingDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiving = Task.CompletedTask;
    private IUnknownDatagramHandler? _unknown;
    private int _disposed;
    private bool _segmentationOffload = OperatingSystem.IsLinux();
    private bool _connected;

    private unsafe QuicSocket(Socket socket, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var local = LocalEndPoint.Serialize();
        LocalAddressLength = local.Size;
        _localAddress = (byte*)NativeMemory.AllocZeroed(128);
        local.Buffer.Span.CopyTo(new Span<byte>(_localAddress, 128));
    }

    /// <summary>The address the socket is bound to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The bound address as a native <c>sockaddr</c>, for ngtcp2's path.</summary>
    public unsafe ngtcp2_sockaddr* LocalAddress => (ngtcp2_sockaddr*)_localAddress;

    /// <summary>The length of <see cref="LocalAddress"/>.</summary>
    public int LocalAddressLength { get; }

    /// <summary>Connections on this socket.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Binds a UDP socket.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static QuicSocket Bind(IPEndPoint endPoint, ILogger logger)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // Bursts of many streams arrive faster than one loop reads them; a larger buffer drops fewer.
            socket.ReceiveBufferSize = 4 * 1024 * 1024;
            socket.SendBufferSize = 4 * 1024 * 1024;

            // Lets the blocking receive notice, now and then, that the socket is stopping.
            socket.ReceiveTimeout = 1000;
            socket.Bind(endPoint);
            return new QuicSocket(socket, logger);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects a client's socket to its one server, so the kernel reports that server's ICMP errors to it.</summary>
    public void ConnectTo(IPEndPoint remote)
    {
        _socket.Connect(remote);
        _connected = true;
    }

    /// <summary>Starts reading datagrams; those for unknown connection ids go to <paramref name="unknown"/> (a listener) or are dropped.</summary>
    public void Start(IUnknownDatagramHandler? unknown)
    {
        _unknown = unknown;
        var thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "plexus-quic-receive" };
        _receiving = _receivingDone.Task;
        thread.Start();
    }

    public void Register(ReadOnlySpan<byte> connectionId, QuicConnection connection) => _connections[new ConnectionIdKey(connectionId)] = connection;

    public void Unregister(ReadOnlySpan<byte> connectionId, QuicConnection connection) =>
        _connections.TryRemove(new KeyValuePair<ConnectionIdKey, QuicConnection>(new ConnectionIdKey(connectionId), connection));

    /// <summary>Sends one datagram; a failure is logged and dropped like a lost packet (QUIC recovers or times out).</summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException exception)
        {
            QuicEngineLog.SendFailed(_logger, LocalEndPoint, exception.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of back-to-back QUIC packets, each <paramref name="segment"/> bytes but
    /// the last, to <paramref name="to"/>: in one <c>sendmsg</c> with <c>UDP_SEGMENT</c> where the kernel offers
    /// segmentation offload, else one datagram at a time. A failed send is a lost packet, which QUIC recovers.
    /// </summary>
    public unsafe void SendBatch(byte* packets, int length, int segment, byte* address, int addressLength, SocketAddress to)
    {
        if (length > segment && _segmentationOffload && TrySendSegmented(packets, length, segment, address, addressLength))
        {
            return;
        }

        for (var offset = 0; offset < length; offset += segment)
        {
            Send(new ReadOnlySpan<byte>(packets + offset, Math.Min(segment, length - offset)), to);
        }
    }

    private unsafe bool TrySendSegmented(byte* packets, int length, int segment, byte* address, int addressLength)
    {
        // cmsghdr (16 bytes) + a u16 segment size, padded to 8: CMSG_SPACE(2) = 24.
        var control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        var header = (cmsghdr*)control;
        header->cmsg_len = (nuint)(sizeof(cmsghdr) + sizeof(ushort));
        header->cmsg_level = LibC.SOL_UDP;
        header->cmsg_type = LibC.UDP_SEGMENT;
        *(ushort*)(control + sizeof(cmsghdr)) = (ushort)segment;

        iovec vector;
        vector.iov_base = packets;
        vector.iov_len = (nuint)length;
        msghdr message = default;
        message.msg_name = address;
        message.msg_namelen = (uint)addressLength;
        message.msg_iov = &vector;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = 24;

        var fd = (int)_socket.SafeHandle.DangerousGetHandle();
        if (LibC.sendmsg(fd, &message, 0) >= 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        if (error is LibC.EIO or LibC.EINVAL or LibC.ENOPROTOOPT or LibC.EOPNOTSUPP)
        {
            // No segmentation offload on this kernel or device: datagram by datagram from now on.
            _segmentationOffload = false;
            QuicEngineLog.SegmentationOffloadUnavailable(_logger, LocalEndPoint, error);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _receiving.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        FreeLocalAddress();
    }

    private unsafe void FreeLocalAddress() => NativeMemory.Free(_localAddress);

    /// <summary>
    /// The socket's own thread: a blocking receive wakes it straight from the kernel (no event loop, no thread-pool
    /// hop). It reads every datagram waiting, up to a bound, handing each to its connection, and only then lets each
    /// connection it touched write: the packets that many acknowledgements make room for leave together, in few
    /// system calls.
    /// </summary>
    private void ReceiveLoop()
    {
        try
        {
            ReceiveDatagrams();
        }
        finally
        {
            _receivingDone.TrySetResult();
        }
    }

    private void ReceiveDatagrams()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferBytes, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        var touched = new List<QuicConnection>();
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            var waiting = true;
            for (var drained = 0; drained < MaxDatagramsPerWrite && (waiting || Available()); drained++)
            {
                waiting = false;
                int received;
                try
                {
                    received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
                }
                catch (SocketException exception) when (exception.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    // The receive timeout only lets the loop notice that the socket is stopping.
                    break;
                }
                catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
                {
                    // ICMP errors for earlier sends. Only a client's socket, connected to its one server, hears them;
                    // "port unreachable" there means nothing listens, so its connection fails now, not at a timeout.
                    if (_connected && exception.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
                    {
                        foreach (var connection in _connections.Values)
                        {
                            connection.OnPeerUnreachable();
                        }
                    }

                    continue;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException exception)
                {
                    if (token.IsCancellationRequested)
                    {
                        return;
                    }

                    // Every connection on the socket depends on this loop: an unexpected error is logged and the
                    // loop goes on (after a pause, so a persistent one cannot spin), rather than ending them all.
                    QuicEngineLog.DatagramFailed(_logger, LocalEndPoint, exception);
                    Thread.Sleep(10);
                    break;
                }

                try
                {
                    if (Dispatch(new ReadOnlySpan<byte>(buffer, 0, received), from) is { } connection && !connection.WritePending)
                    {
                        connection.WritePending = true;
                        touched.Add(connection);
                    }
                }
                catch (Exception exception)
                {
                    // One bad datagram must never stop the socket that every other connection shares.
                    QuicEngineLog.DatagramFailed(_logger, LocalEndPoint, exception);
                }
            }

            foreach (var connection in touched)
            {
                connection.WritePending = false;
                try
                {
                    connection.WriteAfterReading();
                }
                catch (Exception exception)
                {
                    QuicEngineLog.DatagramFailed(_logger, LocalEndPoint, exception);
                }
            }

            touched.Clear();
        }
    }

    private bool Available()
    {
        try
        {
            return _socket.Available > 0;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Hands a datagram to its connection (or the listener); returns the connection that read it.</summary>
    private unsafe QuicConnection? Dispatch(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        ngtcp2_version_cid vc;
        int rv;
        fixed (byte* p = datagram)
        {
            rv = Ngtcp2.ngtcp2_pkt_decode_version_cid(&vc, p, (nuint)datagram.Length, ConnectionIdLength);
            if (rv == 0)
            {
                var key = new ConnectionIdKey(new ReadOnlySpan<byte>(vc.dcid, (int)vc.dcidlen));
                if (_connections.TryGetValue(key, out var connection))
                {
                    connection.ReadDatagram(datagram);
                    return connection;
                }
            }
        }

        if ((rv == 0 || rv == Ngtcp2Constants.NGTCP2_ERR_VERSION_NEGOTIATION) && _unknown?.OnUnknownDatagram(this, datagram, from, rv == Ngtcp2Constants.NGTCP2_ERR_VERSION_NEGOTIATION) is { } accepted)
        {
            accepted.ReadDatagram(datagram);
            return accepted;
        }

        // Anything else is not QUIC, or not for us: dropped without a reply.
        return null;
    }
}

/// <summary>What a listener does with datagrams for connection ids its socket does not know.</summary>
internal interface IUnknownDatagramHandler
{
    /// <summary>Answers or accepts a datagram no connection claimed; returns a connection it created for it, which then reads it.</summary>
    QuicConnection? OnUnknownDatagram(QuicSocket socket, ReadOnlySpan<byte> datagram, SocketAddress from, bool unsupportedVersion);
}
