using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// One QUIC connection on ngtcp2. Every ngtcp2 call for it is made under <see cref="_gate"/>, by whichever thread
/// has work (the socket's read loop, the connection's timer, a stream's reader or writer), so one owner at a time
/// touches its native state; ngtcp2's callbacks run inside those calls, on that owner.
/// </summary>
internal sealed partial class QuicConnection : IAsyncDisposable
{
    private const int SendBufferBytes = 64 * 1024;

    private readonly object _gate = new();
    private readonly QuicSocket _socket;
    private readonly bool _ownsSocket;
    private readonly QuicConnectionSettings _settings;
    private readonly int _maxUdpPayloadSize;
    private readonly long _connectionCreditBatch;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private GCHandle _self;
    private bool _freed;
    private unsafe readonly ngtcp2_crypto_conn_ref* _connectionReference;
    private unsafe readonly byte* _remoteAddress;
    private readonly SocketAddress _remoteSocketAddress;
    private readonly Dictionary<long, QuicStream> _streams = [];
    private readonly Queue<QuicStream> _sendQueue = new();
    private readonly Channel<QuicStream> _inbound = Channel.CreateUnbounded<QuicStream>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<QuicCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<byte[]> _connectionIds = [];
    private readonly byte[] _packetBuffer = GC.AllocateUninitializedArray<byte>(SendBufferBytes, pinned: true);
    private readonly ITimer _timer;
    private readonly string? _serverName;

    // GnuTLS sessions point at the credentials; the connection keeps them alive for as long as it has a session.
    private QuicTlsCredentials? _credentials;
    private Ngtcp2ConnectionHandle? _connection;
    private GnuTlsSessionHandle? _tls;
    private nint _conn;
    private ngtcp2_path _path;
    private ulong _armedExpiry = ulong.MaxValue;
    private TaskCompletionSource? _bidiCredit;
    private TaskCompletionSource? _uniCredit;
    private QuicCloseInfo? _closeInfo;
    private bool _handshakeCompleted;
    private int _closedRemoteStreams;
    private bool _flushScheduled;

    // The scheduled flush as a work item the connection keeps and queues again: a delegate with its state would be an
    // allocation per flush.
    private readonly ScheduledFlush _scheduledFlush;
    private int _datagramsSinceWrite;
    private int _streamCount;
    private long _connectionCreditOwed;
    private string? _pendingFailure;

    private unsafe QuicConnection(QuicSocket socket, bool ownsSocket, IPEndPoint remote, QuicConnectionSettings settings, ILogger logger, TimeProvider time, string? serverName)
    {
        _socket = socket;
        _ownsSocket = ownsSocket;
        _settings = settings;
        _scheduledFlush = new ScheduledFlush(this);
        // Credit goes back in batches no larger than a fraction of each window (see QuicStream.Consumed).
        StreamCreditBatch = Math.Max(1, Math.Min(16 * 1024, settings.StreamWindowBytes / 4));
        _connectionCreditBatch = Math.Max(1, Math.Min(64 * 1024, settings.ConnectionWindowBytes / 8));
        _sendBudget = settings.ConnectionSendBufferBytes;
        _stalledPeerTimeout = QuicClock.ToNanoseconds(settings.StalledPeerTimeout);
        _maxUdpPayloadSize = settings.LoopbackMtu ? LoopbackPath.UdpPayloadSize(remote.Address, settings.MaxUdpPayloadSize) : settings.MaxUdpPayloadSize;
        _logger = logger;
        _time = time;
        _serverName = serverName;
        RemoteEndPoint = remote;
        _remoteSocketAddress = remote.Serialize();
        _remoteAddress = (byte*)NativeMemory.AllocZeroed(128);
        _remoteSocketAddress.Buffer.Span.CopyTo(new Span<byte>(_remoteAddress, 128));
        _path.local.addr = socket.LocalAddress;
        _path.local.addrlen = (uint)socket.LocalAddressLength;
        _path.remote.addr = (ngtcp2_sockaddr*)_remoteAddress;
        _path.remote.addrlen = (uint)_remoteSocketAddress.Size;
        _self = GCHandle.Alloc(this);
        _connectionReference = (ngtcp2_crypto_conn_ref*)NativeMemory.AllocZeroed((nuint)sizeof(ngtcp2_crypto_conn_ref));
        _connectionReference->get_conn = (nint)(delegate* unmanaged<ngtcp2_crypto_conn_ref*, nint>)&GetConnection;
        _connectionReference->user_data = (void*)GCHandle.ToIntPtr(_self);
        _timer = time.CreateTimer(static state => ((QuicConnection)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many consumed bytes a stream returns to the peer at once.</summary>
    internal long StreamCreditBatch { get; }

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Completes (never faults) when the connection has closed, for whatever reason.</summary>
    public Task<QuicCloseInfo> Closed => _closed.Task;

    /// <summary>The application protocol the TLS handshake chose (one of <see cref="QuicConnectionSettings.Alpns"/>); empty before it completes.</summary>
    public string Alpn { get; private set; } = string.Empty;

    /// <summary>Whether the connection has closed.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Streams open on the connection.</summary>
    public int ActiveStreamCount
    {
        get
        {
            lock (_gate)
            {
                return _streams.Count;
            }
        }
    }

    internal Task Handshake => _handshake.Task;

    /// <summary>Opens a connection to a server and completes its handshake.</summary>
    /// <exception cref="QuicConnectionClosedException">The handshake failed; the exception's info says why.</exception>
    public static async ValueTask<QuicConnection> ConnectAsync(
        IPEndPoint remote, string serverName, QuicTlsCredentials tls, QuicConnectionSettings settings, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(tls);
        QuicNativeLibraries.EnsureAvailable();
        var local = remote.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        var socket = QuicSocket.Bind(local, logger);
        var connection = new QuicConnection(socket, ownsSocket: true, remote, settings, logger, time, serverName);
        try
        {
            connection.InitializeClient(tls);
            socket.ConnectTo(remote);
            socket.Start(unknown: null);
            connection.Kick();
            using var registration = cancellationToken.Register(static state => ((QuicConnection)state!).Close(0, "the caller gave up on the handshake"), connection);
            await Task.WhenAny(connection._handshake.Task, connection._closed.Task).ConfigureAwait(false);
            if (!connection._handshake.Task.IsCompletedSuccessfully)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var info = await connection._closed.Task.ConfigureAwait(false);
                throw new QuicConnectionClosedException(info);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates the server side of a connection from a client's first Initial packet (the listener's accept path).</summary>
    internal static QuicConnection Accept(
        QuicSocket socket, IPEndPoint remote, in ngtcp2_pkt_hd header, QuicTlsCredentials tls, QuicConnectionSettings settings, ILogger logger, TimeProvider time)
    {
        var connection = new QuicConnection(socket, ownsSocket: false, remote, settings, logger, time, serverName: null);
        try
        {
            connection.InitializeServer(header, tls);
            return connection;
        }
        catch
        {
            connection.FreeNative();
            throw;
        }
    }

    /// <summary>Opens a bidirectional stream, waiting for the peer's stream credit.</summary>
    public ValueTask<QuicStream> OpenBidirectionalStreamAsync(CancellationToken cancellationToken) => OpenStreamAsync(bidirectional: true, cancellationToken);

    /// <summary>Opens a unidirectional stream, waiting for the peer's stream credit.</summary>
    public ValueTask<QuicStream> OpenUnidirectionalStreamAsync(CancellationToken cancellationToken) => OpenStreamAsync(bidirectional: false, cancellationToken);

    /// <summary>The next stream the peer opened.</summary>
    /// <exception cref="QuicConnectionClosedException">The connection is closed.</exception>
    public async ValueTask<QuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _inbound.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new QuicConnectionClosedException(_closeInfo ?? new QuicCloseInfo(QuicCloseKind.Disposed, 0, ""));
        }
    }

    /// <summary>Closes the connection with an application error code (0: orderly); every stream fails. Idempotent.</summary>
    public void Close(ulong applicationErrorCode, string reason)
    {
        lock (_gate)
        {
            CloseLocked(applicationErrorCode, reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(0, "");
        if (_ownsSocket)
        {
            await _socket.DisposeAsync().ConfigureAwait(false);
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<QuicStream> OpenStreamAsync(bool bidirectional, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                ThrowIfClosed();
                var rv = TryOpen(bidirectional, out var id);
                if (rv == 0)
                {
                    var stream = new QuicStream(this, id, local: true, bidirectional, _settings.SendBufferBytes);
                    _streams.Add(id, stream);
                    if (bidirectional)
                    {
                        Interlocked.Increment(ref _streamCount);
                    }

                    return stream;
                }

                if (rv != Ngtcp2Constants.NGTCP2_ERR_STREAM_ID_BLOCKED)
                {
                    throw new IOException($"A QUIC stream could not be opened: {Ngtcp2.ErrorText(rv)}");
                }

                ref var credit = ref bidirectional ? ref _bidiCredit : ref _uniCredit;
                credit ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = credit.Task;
            }

            await Task.WhenAny(wait, _closed.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private unsafe int TryOpen(bool bidirectional, out long id)
    {
        long opened;
        var rv = bidirectional
            ? Ngtcp2.ngtcp2_conn_open_bidi_stream(_conn, &opened, 0)
            : Ngtcp2.ngtcp2_conn_open_uni_stream(_conn, &opened, 0);
        id = opened;
        return rv;
    }

    private void ThrowIfClosed()
    {
        if (_closeInfo is { } info)
        {
            throw new QuicConnectionClosedException(info);
        }
    }

    private static byte[] NewConnectionId()
    {
        var id = new byte[QuicSocket.ConnectionIdLength];
        RandomNumberGenerator.Fill(id);
        return id;
    }

    private void RegisterConnectionId(byte[] id)
    {
        _connectionIds.Add(id);
        _socket.Register(id, this);
    }

    private unsafe void FreeNative()
    {
        if (_freed)
        {
            return;
        }

        _freed = true;
        // The ngtcp2 connection refers to the TLS session; free it first.
        _connection?.Dispose();
        _connection = null;
        _conn = 0;
        _tls?.Dispose();
        _tls = null;
        if (_self.IsAllocated)
        {
            _self.Free();
        }

        NativeMemory.Free(_connectionReference);
        NativeMemory.Free(_remoteAddress);
    }
}
