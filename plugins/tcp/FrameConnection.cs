using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>
/// One established connection (after the handshake), for either role: a writer loop that encodes queued frames of
/// every stream into one <see cref="PipeWriter"/> and flushes when the queue runs dry (many frames, few system calls);
/// a reader loop that parses frames from a <see cref="PipeReader"/> and hands stream frames to the role's
/// <see cref="IFrameReceiver"/>; connection-level flow control; keep-alive; and the bound on what the connection owes
/// its peer: control frames (which no credit bounds) count against <see cref="TcpTransportOptions.MaxQueuedControlBytes"/>
/// until the socket takes them, and at that bound the reader stops reading, so a peer that sends without reading is held
/// back by TCP, and is closed once it has read nothing for <see cref="TcpTransportOptions.StalledPeerTimeout"/>.
/// </summary>
internal sealed partial class FrameConnection
{
    // Flush before the queue is empty once this much is pending, so a long queue of large frames still streams out;
    // about one pipe segment (see PipeOptionsFactory), so each flush is one or two writes to the socket.
    private const int FlushThreshold = 1024 * 1024;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private PipeReader _input;
    private readonly PipeWriter _output;
    private readonly IFrameCodec _codec;
    private readonly ArrayPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly Channel<OutgoingFrame> _outgoing;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _keepAliveIntervalMs;
    private readonly long _keepAliveTimeoutMs;
    private readonly int _returnThreshold;
    private readonly long _maxQueuedControl;
    private readonly long _resumeQueuedControl;
    private readonly long _stalledPeerTimeoutMs;
    private IFrameReceiver? _receiver;
    private Timer? _keepAlive;
    private long _lastReceived;
    private long _receiveRemaining;
    private long _pendingReturn;
    private long _unflushed;

    // Bytes of frames queued by Send and not yet taken by the socket, by kind (see OutgoingFrame.QueuedBytes). What the
    // writer loop has written but not yet flushed is also in _unflushedControl/_unflushedData, which it subtracts once
    // the flush completes.
    private long _queuedControl;
    private long _queuedData;
    private long _unflushedControl;
    private long _unflushedData;
    private long _lastFlushed;

    // Credit of REQUEST/DATA frames handed to the socket and not yet returned by the peer: the most a connection CREDIT
    // can honestly return. The writer loop adds what it writes just before flushing; _unflushedCredit is its share.
    private long _unreturnedCredit;
    private long _unflushedCredit;

    // Set while the reader is stopped at the control bound; the writer loop completes it once the peer has read enough.
    private TaskCompletionSource? _room;
    private int _closed;
    private readonly bool _server;
    private int _counted;
    private bool _graceful;
    private PlexusException? _closeError;

    public FrameConnection(
        Socket socket,
        Stream stream,
        PipeReader input,
        PipeWriter output,
        IFrameCodec codec,
        PeerSettings local,
        PeerSettings peer,
        byte version,
        TcpTransportOptions options,
        ArrayPool<byte> pool,
        ILogger logger,
        string peerName,
        bool server)
    {
        _server = server;
        _socket = socket;
        _stream = stream;
        _input = input;
        _output = output;
        _codec = codec;
        _pool = pool;
        _logger = logger;
        Local = local;
        Peer = peer;
        Version = version;
        PeerName = peerName;
        // Never more REQUEST/DATA bytes in flight towards the peer than this side lets the peer have towards it, whatever
        // the peer announced: what waits for a peer that does not read is bounded by this side's own setting.
        SendWindow = new CreditWindow(Math.Min(peer.ConnectionWindowBytes, local.ConnectionWindowBytes), this);
        _receiveRemaining = local.ConnectionWindowBytes;
        _returnThreshold = local.ConnectionWindowBytes / 4;
        _keepAliveIntervalMs = (long)options.KeepAliveInterval.TotalMilliseconds;
        _keepAliveTimeoutMs = (long)options.KeepAliveTimeout.TotalMilliseconds;
        _maxQueuedControl = options.MaxQueuedControlBytes;
        _resumeQueuedControl = options.MaxQueuedControlBytes / 2;
        _stalledPeerTimeoutMs = Math.Max(1, (long)options.StalledPeerTimeout.TotalMilliseconds);
        _lowLatencyRequested = options.LowLatency;
        _outgoing = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>This side's announced settings.</summary>
    public PeerSettings Local { get; }

    /// <summary>The peer's announced settings: the limits this side's frames must respect.</summary>
    public PeerSettings Peer { get; }

    /// <summary>The protocol version negotiated at the handshake; from <see cref="Wire.PackedVersion"/> on, responses may be packed.</summary>
    public byte Version { get; }

    /// <summary>Whether response messages may travel packed in MESSAGES frames on this connection.</summary>
    public bool PacksMessages => Version >= Wire.PackedVersion;

    /// <summary>
    /// Whether a response's normal end may travel in its last DATA or MESSAGES frame (<see cref="Wire.EndStream"/>) on
    /// this connection instead of in an END frame.
    /// </summary>
    public bool EndsInFrame => Version >= Wire.EndInFrameVersion;

    /// <summary>The peer's address, for messages.</summary>
    public string PeerName { get; }

    /// <summary>Credit for REQUEST and DATA frames on the whole connection.</summary>
    public CreditWindow SendWindow { get; }

    /// <summary>The transport's logger, for what goes wrong on one stream.</summary>
    public ILogger Logger => _logger;

    /// <summary>The pool of every rented buffer on this connection.</summary>
    public ArrayPool<byte> Pool => _pool;

    /// <summary>Whether the connection has closed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Why the connection closed, once it has.</summary>
    public PlexusException? CloseError => Volatile.Read(ref _closeError);

    /// <summary>Bytes of control frames waiting for the peer: queued, or written but not yet taken by the socket.</summary>
    public long QueuedControlBytes => Volatile.Read(ref _queuedControl);

    /// <summary>
    /// Bytes of REQUEST, DATA and MESSAGES frames waiting for the peer: queued, or written but not yet taken by the
    /// socket. Messages that join a MESSAGES frame already queued count from when the writer loop takes it.
    /// </summary>
    public long QueuedDataBytes => Volatile.Read(ref _queuedData);

    /// <summary>Whether the reader has stopped reading because the peer is not reading what it is owed.</summary>
    public bool IsReadingPaused => Volatile.Read(ref _room) is not null;

    /// <summary>Completes when both loops have ended.</summary>
    public Task Completion => Task.WhenAll(_readerDone.Task, _writerDone.Task);

    /// <summary>Starts the loops and keep-alive; frames go to <paramref name="receiver"/> from now on.</summary>
    public void Start(IFrameReceiver receiver)
    {
        if (Interlocked.Exchange(ref _counted, 1) == 0)
        {
            TcpMetrics.ConnectionOpened(_server);
        }

        _receiver = receiver;
        _lastReceived = Environment.TickCount64;
        StartReaderThread();
        _ = Task.Run(WriteLoopAsync);

        // On a connection thread the reader loop starts here, so that everything it reads runs on this thread.
        _ = _lowLatency ? ReadLoopAsync() : Task.Run(ReadLoopAsync);
        var period = TimeSpan.FromMilliseconds(Math.Max(5, Math.Min(_keepAliveIntervalMs, _keepAliveTimeoutMs / 4)));
        _keepAlive = new Timer(static state => ((FrameConnection)state!).OnKeepAliveTick(), this, period, period);
    }

    /// <summary>Queues a frame for the writer loop; in low-latency mode writes it at once when the writer is idle.</summary>
    /// <returns><see langword="false"/> when the connection is closing; the frame was dropped.</returns>
    public bool Send(in OutgoingFrame frame)
    {
        // Counted before it is queued, so the writer loop can never take away more than was added.
        var bytes = frame.QueuedBytes;
        var control = frame.IsControl;
        Interlocked.Add(ref control ? ref _queuedControl : ref _queuedData, bytes);
        if (_lowLatency && TryWriteThrough(frame))
        {
            return true;
        }

        if (_outgoing.Writer.TryWrite(frame))
        {
            return true;
        }

        Interlocked.Add(ref control ? ref _queuedControl : ref _queuedData, -bytes);

        // Not queued. Never return the buffer to the pool here: frames queued earlier may still point into it while
        // the writer loop winds down, and a re-rented buffer must not leak onto the wire. The collector takes it.
        frame.Observer?.OnFrameDone(false);
        return false;
    }

    /// <summary>Gives back connection credit for REQUEST/DATA bytes this side has consumed (or discarded).</summary>
    public void ReturnCredit(int credit)
    {
        if (credit <= 0)
        {
            return;
        }

        if (Interlocked.Add(ref _pendingReturn, credit) < _returnThreshold)
        {
            return;
        }

        var amount = Interlocked.Exchange(ref _pendingReturn, 0);
        if (amount > 0)
        {
            Interlocked.Add(ref _receiveRemaining, amount);
            Send(new OutgoingFrame(FrameType.Credit, 0, 0, value: (ulong)amount));
        }
    }

    /// <summary>
    /// Sends what is queued, then closes: the write side shuts down, and the socket closes once the peer closes its side
    /// (or after a short grace), so that the peer reads every byte sent before the close.
    /// </summary>
    public void CloseGracefully(PlexusException reason)
    {
        if (Interlocked.CompareExchange(ref _closeError, reason, null) is not null)
        {
            return;
        }

        _graceful = true;
        _outgoing.Writer.TryComplete();
        _ = AbortAfterGraceAsync(reason);
    }

    /// <summary>Closes at once: queued frames are dropped, the socket is closed, every stream ends with <paramref name="error"/>.</summary>
    public void Abort(PlexusException error)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _closeError, error, null);
        var reason = _closeError!;
        if (Volatile.Read(ref _counted) == 1)
        {
            TcpMetrics.ConnectionClosed(_server);
        }

        _keepAlive?.Dispose();
        _outgoing.Writer.TryComplete();
        _closing.Cancel();
        SendWindow.Close(reason);
        try
        {
            // Closing the socket first unblocks any pending I/O in both loops.
            _socket.Close(0);
            _stream.Dispose();
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
        {
            // Already broken: closing it is all that was wanted.
        }

        // Closed from the reader loop's own dispatch (a broken frame): what the streams are told now cannot wait for
        // the end of a read that will not come.
        if (IsDispatching)
        {
            Volatile.Write(ref _dispatchThread, 0);
        }

        _receiver?.OnClosed(reason);
    }

    private async Task AbortAfterGraceAsync(PlexusException reason)
    {
        await _writerDone.Task.ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            await _readerDone.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or TimeoutException)
        {
            // The peer did not close in time or the socket is gone; close regardless.
        }

        Abort(reason);
    }

    private void OnKeepAliveTick()
    {
        if (IsClosed)
        {
            return;
        }

        var idle = Environment.TickCount64 - Volatile.Read(ref _lastReceived);
        if (idle >= _keepAliveTimeoutMs)
        {
            if (HasUnreadBytes() || IsReadingPaused)
            {
                // The peer did send: its bytes wait in the socket for this side's reader, which is behind because the
                // thread pool is busy (this timer runs ahead of queued work), or which stopped reading because the peer
                // does not read (StalledPeerTimeout rules then). A busy process keeps its connections.
                return;
            }

            TcpLog.PeerDead(_logger, PeerName, idle);
            Abort(PlexusException.Unavailable(
                $"Nothing was received from {PeerName} for {idle} ms, past {TcpTransportOptions.Key(nameof(TcpTransportOptions.KeepAliveTimeout))} ({_keepAliveTimeoutMs} ms); the peer is presumed dead and the connection was closed."));
        }
        else if (idle >= _keepAliveIntervalMs)
        {
            Send(new OutgoingFrame(FrameType.Ping, 0, 0, value: (ulong)Environment.TickCount64));
        }
    }

    private bool HasUnreadBytes()
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
}
