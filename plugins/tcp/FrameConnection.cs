using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
internal sealed class FrameConnection
{
    // Flush before the queue is empty once this much is pending, so a long queue of large frames still streams out;
    // about one pipe segment (see PipeOptionsFactory), so each flush is one or two writes to the socket.
    private const int FlushThreshold = 1024 * 1024;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
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
        PeerName = peerName;
        // Never more REQUEST/DATA bytes in flight towards the peer than this side lets the peer have towards it, whatever
        // the peer announced: what waits for a peer that does not read is bounded by this side's own setting.
        SendWindow = new CreditWindow(Math.Min(peer.ConnectionWindowBytes, local.ConnectionWindowBytes));
        _receiveRemaining = local.ConnectionWindowBytes;
        _returnThreshold = local.ConnectionWindowBytes / 4;
        _keepAliveIntervalMs = (long)options.KeepAliveInterval.TotalMilliseconds;
        _keepAliveTimeoutMs = (long)options.KeepAliveTimeout.TotalMilliseconds;
        _maxQueuedControl = options.MaxQueuedControlBytes;
        _resumeQueuedControl = options.MaxQueuedControlBytes / 2;
        _stalledPeerTimeoutMs = Math.Max(1, (long)options.StalledPeerTimeout.TotalMilliseconds);
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

    /// <summary>The peer's address, for messages.</summary>
    public string PeerName { get; }

    /// <summary>Credit for REQUEST and DATA frames on the whole connection.</summary>
    public CreditWindow SendWindow { get; }

    /// <summary>The pool of every rented buffer on this connection.</summary>
    public ArrayPool<byte> Pool => _pool;

    /// <summary>Whether the connection has closed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Why the connection closed, once it has.</summary>
    public PlexusException? CloseError => Volatile.Read(ref _closeError);

    /// <summary>Bytes of control frames waiting for the peer: queued, or written but not yet taken by the socket.</summary>
    public long QueuedControlBytes => Volatile.Read(ref _queuedControl);

    /// <summary>Bytes of REQUEST and DATA frames waiting for the peer: queued, or written but not yet taken by the socket.</summary>
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
        _ = Task.Run(WriteLoopAsync);
        _ = Task.Run(ReadLoopAsync);
        var period = TimeSpan.FromMilliseconds(Math.Max(5, Math.Min(_keepAliveIntervalMs, _keepAliveTimeoutMs / 4)));
        _keepAlive = new Timer(static state => ((FrameConnection)state!).OnKeepAliveTick(), this, period, period);
    }

    /// <summary>Queues a frame for the writer loop.</summary>
    /// <returns><see langword="false"/> when the connection is closing; the frame was dropped.</returns>
    public bool Send(in OutgoingFrame frame)
    {
        // Counted before it is queued, so the writer loop can never take away more than was added.
        var bytes = frame.QueuedBytes;
        var control = frame.IsControl;
        Interlocked.Add(ref control ? ref _queuedControl : ref _queuedData, bytes);
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

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    Write(frame);
                    if (_unflushed >= FlushThreshold)
                    {
                        await FlushAsync().ConfigureAwait(false);
                    }
                }

                await FlushAsync().ConfigureAwait(false);
            }

            if (_graceful && !IsClosed)
            {
                await _output.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            // Socket errors are expected here; anything else is a bug, but it too must end only this connection.
            if (!IsClosed)
            {
                Abort(PlexusException.Unavailable($"Writing to {PeerName} failed: {exception.Message}"));
            }
        }
        finally
        {
            // Frames left behind are dropped; their observers hear so. Nothing will be written any more, so nothing
            // can still read their buffers: those go back to the pool.
            while (reader.TryRead(out var frame))
            {
                Interlocked.Add(ref frame.IsControl ? ref _queuedControl : ref _queuedData, -frame.QueuedBytes);
                if (frame.Buffer is not null)
                {
                    _pool.Return(frame.Buffer);
                }

                frame.Observer?.OnFrameDone(false);
            }

            Interlocked.Add(ref _queuedControl, -_unflushedControl);
            Interlocked.Add(ref _queuedData, -_unflushedData);
            _unflushedControl = 0;
            _unflushedData = 0;

            // The pipe's own segments go back to their pool too; an abort never writes what they still hold.
            _output.Complete(IsClosed ? new IOException($"The connection to {PeerName} closed.") : null);
            _writerDone.TrySetResult();
        }
    }

    // Pooled: a flush that waits for the socket must not cost an allocation each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        _unflushed = 0;

        // Before the bytes can reach the peer, so that its CREDIT for them never finds them uncounted.
        if (_unflushedCredit != 0)
        {
            Interlocked.Add(ref _unreturnedCredit, _unflushedCredit);
            _unflushedCredit = 0;
        }

        await _output.FlushAsync(_closing.Token).ConfigureAwait(false);

        // The socket has taken these bytes: they no longer count against the connection.
        var control = Interlocked.Add(ref _queuedControl, -_unflushedControl);
        if (_unflushedData != 0)
        {
            Interlocked.Add(ref _queuedData, -_unflushedData);
        }

        _unflushedControl = 0;
        _unflushedData = 0;
        Volatile.Write(ref _lastFlushed, Environment.TickCount64);
        if (control <= _resumeQueuedControl && Volatile.Read(ref _room) is { } room)
        {
            room.TrySetResult();
        }
    }

    private void Write(in OutgoingFrame frame)
    {
        if (frame.IsControl)
        {
            _unflushedControl += frame.QueuedBytes;
        }
        else
        {
            _unflushedData += frame.QueuedBytes;
            if (!frame.ReleaseOnly)
            {
                _unflushedCredit += frame.Body.Length + Wire.FrameCharge;
            }
        }

        if (!frame.ReleaseOnly)
        {
            if (frame.EncodedHeaderLength > 0)
            {
                _codec.Write(frame.Buffer.AsSpan(0, frame.EncodedHeaderLength), frame.Body, _output);
                _unflushed += frame.EncodedHeaderLength;
            }
            else
            {
                Span<byte> header = stackalloc byte[Wire.CommonHeaderLength + 8];
                header[0] = (byte)frame.Type;
                header[1] = frame.Flags;
                BinaryPrimitives.WriteUInt32LittleEndian(header[2..], frame.StreamId);
                var length = Wire.CommonHeaderLength;
                switch (frame.Type)
                {
                    case FrameType.Error or FrameType.Cancel or FrameType.GoAway:
                        header[length++] = frame.Code;
                        break;
                    case FrameType.Credit:
                        BinaryPrimitives.WriteUInt32LittleEndian(header[length..], (uint)frame.Value);
                        length += 4;
                        break;
                    case FrameType.Ping or FrameType.Pong:
                        BinaryPrimitives.WriteUInt64LittleEndian(header[length..], frame.Value);
                        length += 8;
                        break;
                }

                _codec.Write(header[..length], frame.Body, _output);
                _unflushed += length;
            }

            _unflushed += frame.Body.Length + Wire.FrameCharge;
        }

        if (frame.Buffer is not null)
        {
            _pool.Return(frame.Buffer);
        }

        frame.Observer?.OnFrameDone(true);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            var limits = Local.FrameLimits;
            while (true)
            {
                var result = await _input.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var owedTooMuch = false;
                try
                {
                    var any = false;
                    while (!IsClosed && _codec.TryRead(ref buffer, limits, out var frame))
                    {
                        any = true;
                        Dispatch(frame);
                        if (Volatile.Read(ref _queuedControl) >= _maxQueuedControl)
                        {
                            // The peer is not reading what it is owed: read no further, not even what is buffered.
                            owedTooMuch = true;
                            break;
                        }
                    }

                    if (any)
                    {
                        // Once per read, not per frame: a read of many small frames costs one clock read and one round of wake-ups.
                        Volatile.Write(ref _lastReceived, Environment.TickCount64);
                        _receiver!.OnReadComplete();
                    }
                }
                finally
                {
                    if (!IsClosed)
                    {
                        // Stopped early, the rest is unexamined, so that the next read returns it at once.
                        _input.AdvanceTo(buffer.Start, owedTooMuch ? buffer.Start : buffer.End);
                    }
                }

                if (owedTooMuch)
                {
                    if (!await WaitForPeerToReadAsync().ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (result.IsCompleted || result.IsCanceled || IsClosed)
                {
                    if (!IsClosed)
                    {
                        Abort(PlexusException.Unavailable(
                            buffer.IsEmpty
                                ? $"{PeerName} closed the connection."
                                : $"{PeerName} closed the connection in the middle of a frame ({buffer.Length} bytes unread)."));
                    }

                    return;
                }
            }
        }
        catch (PlexusException violation)
        {
            // Garbage or a broken rule: this connection ends; nothing else is touched.
            TcpLog.ProtocolViolation(_logger, PeerName, violation.Message);
            Abort(PlexusException.Unavailable($"The connection to {PeerName} was closed because of a protocol error: {violation.Message}"));
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            if (!IsClosed)
            {
                Abort(PlexusException.Unavailable($"The connection to {PeerName} was lost: {exception.Message}"));
            }
        }
        catch (Exception unexpected)
        {
            // A bug in frame handling must cost this connection only, never the process.
            TcpLog.ProtocolViolation(_logger, PeerName, unexpected.ToString());
            Abort(PlexusException.Unavailable($"The connection to {PeerName} was closed after an internal error: {unexpected.Message}"));
        }
        finally
        {
            // The pipe's buffered segments go back to their pool.
            _input.Complete();
            _readerDone.TrySetResult();
        }
    }

    /// <summary>
    /// Waits, reading nothing, until the peer has read enough of what it is owed for the queued control bytes to fall
    /// to half of <see cref="TcpTransportOptions.MaxQueuedControlBytes"/>. Meanwhile the socket's receive buffer fills
    /// and TCP stops the peer's sends. Closes the connection when the socket has taken nothing for
    /// <see cref="TcpTransportOptions.StalledPeerTimeout"/>.
    /// </summary>
    /// <returns><see langword="false"/> when the connection closed.</returns>
    private async ValueTask<bool> WaitForPeerToReadAsync()
    {
        var pausedAt = Environment.TickCount64;
        try
        {
            while (!IsClosed)
            {
                // Published before the count is read, and the writer loop reads it after lowering the count: one of
                // the two always sees the other.
                var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Interlocked.Exchange(ref _room, room);
                if (Volatile.Read(ref _queuedControl) <= _resumeQueuedControl)
                {
                    return true;
                }

                // Time without progress: since the pause began or the socket last took bytes, whichever is later.
                var stalled = Environment.TickCount64 - Math.Max(pausedAt, Volatile.Read(ref _lastFlushed));
                if (stalled >= _stalledPeerTimeoutMs)
                {
                    var queued = Volatile.Read(ref _queuedControl);
                    var setting = TcpTransportOptions.Key(nameof(TcpTransportOptions.StalledPeerTimeout));
                    TcpLog.StalledPeer(_logger, PeerName, stalled, queued, setting);
                    Abort(PlexusException.Unavailable(
                        $"{PeerName} read nothing for {stalled} ms while {queued} bytes of control frames waited for it, past {setting} ({_stalledPeerTimeoutMs} ms); the connection was closed."));
                    return false;
                }

                try
                {
                    await room.Task.WaitAsync(TimeSpan.FromMilliseconds(_stalledPeerTimeoutMs - stalled), _closing.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Look again: the socket may have taken bytes meanwhile without freeing enough room.
                }
            }

            return false;
        }
        finally
        {
            Volatile.Write(ref _room, null);
        }
    }

    private void Dispatch(in Frame frame)
    {
        var header = FrameHeader.Read(frame.Header);
        switch (header.Type)
        {
            case FrameType.Ping:
                RequireConnectionFrame(header);
                Send(new OutgoingFrame(FrameType.Pong, 0, 0, value: header.Value));
                return;
            case FrameType.Pong:
                RequireConnectionFrame(header);
                return;
            case FrameType.Credit when header.StreamId == 0:
                if (header.Value == 0 || !SendWindow.Add(Returnable((long)header.Value)))
                {
                    throw PlexusException.Protocol($"A connection CREDIT frame of {header.Value} is zero or overflows the window.");
                }

                return;
            case FrameType.Request or FrameType.Data:
                if (header.StreamId == 0)
                {
                    throw PlexusException.Protocol($"A {header.Type} frame names stream 0, which is the connection.");
                }

                if (Interlocked.Add(ref _receiveRemaining, -(frame.Body.Length + Wire.FrameCharge)) < 0)
                {
                    throw PlexusException.Protocol($"{PeerName} sent more than the connection window allows ({Local.ConnectionWindowBytes} bytes of credit); flow control was not respected.");
                }

                break;
        }

        _receiver!.OnFrame(header, frame.Header, frame.Body);
    }

    // A peer can only return credit for bytes it has received; more would let frames pile up here that it never reads.
    private long Returnable(long credit)
    {
        var unreturned = Volatile.Read(ref _unreturnedCredit);
        while (true)
        {
            var returned = Math.Min(credit, unreturned);
            var seen = Interlocked.CompareExchange(ref _unreturnedCredit, unreturned - returned, unreturned);
            if (seen == unreturned)
            {
                return returned;
            }

            unreturned = seen;
        }
    }

    private static void RequireConnectionFrame(in FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            throw PlexusException.Protocol($"A {header.Type} frame names stream {header.StreamId}; it belongs to the connection (stream 0).");
        }
    }
}
