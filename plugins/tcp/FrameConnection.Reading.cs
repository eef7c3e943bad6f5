using System.Buffers;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>The reader loop: frames from the peer, connection frames handled here, stream frames to the receiver, and the pause while the peer owes too much.</summary>
internal sealed partial class FrameConnection
{
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
                    BeginDispatch();
                    try
                    {
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
                    }
                    finally
                    {
                        if (any)
                        {
                            // Once per read, not per frame: a read of many small frames costs one clock read and one
                            // round of wake-ups. Also when a frame broke the connection: what the read's earlier frames
                            // started or woke must still run, to see the connection closed.
                            Volatile.Write(ref _lastReceived, Environment.TickCount64);
                            _receiver!.OnReadComplete();
                        }
                    }

                    EndDispatch();
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

                if (!_server && header.Type == FrameType.Data)
                {
                    CheckResponseFlags(header);
                }

                if (Interlocked.Add(ref _receiveRemaining, -(frame.Body.Length + Wire.FrameCharge)) < 0)
                {
                    throw PlexusException.Protocol($"{PeerName} sent more than the connection window allows ({Local.ConnectionWindowBytes} bytes of credit); flow control was not respected.");
                }

                break;
            case FrameType.Messages:
                if (header.StreamId == 0)
                {
                    throw PlexusException.Protocol("A MESSAGES frame names stream 0, which is the connection.");
                }

                if (!PacksMessages)
                {
                    throw PlexusException.Protocol($"A MESSAGES frame arrived on a connection of protocol version {Version}; they exist from version {Wire.PackedVersion} on.");
                }

                CheckResponseFlags(header);

                // The count decides the frame's credit, so one that the body cannot hold is a malformed header.
                if (header.Value == 0 || header.Value > (ulong)(frame.Body.Length / Wire.MessagePrefixBytes))
                {
                    throw PlexusException.Protocol($"A MESSAGES frame declares {header.Value} messages in a {frame.Body.Length}-byte body; it must carry at least one, each with a {Wire.MessagePrefixBytes}-byte length.");
                }

                if (Interlocked.Add(ref _receiveRemaining, -PackedCharge(frame.Body.Length, header.Value)) < 0)
                {
                    throw PlexusException.Protocol($"{PeerName} sent more than the connection window allows ({Local.ConnectionWindowBytes} bytes of credit); flow control was not respected.");
                }

                break;
        }

        _receiver!.OnFrame(header, frame.Header, frame.Body);
    }

    // The flags a response's DATA and MESSAGES frames may carry: END_MESSAGE on DATA, and from version 3 END_STREAM on
    // MESSAGES and on DATA that ends a message (the response ends after the frame). Any other bit, or END_STREAM in the
    // middle of a message, is a malformed header: the peer does not speak the connection's version.
    private void CheckResponseFlags(in FrameHeader header)
    {
        var allowed = EndsInFrame ? Wire.EndStream : 0;
        if (header.Type == FrameType.Data)
        {
            allowed |= Wire.EndMessage;
        }

        if ((header.Flags & ~allowed) != 0)
        {
            throw PlexusException.Protocol(
                $"A {header.Type} frame for stream {header.StreamId} carries flags 0x{header.Flags:X2}; on a connection of protocol version {Version} it may carry only 0x{allowed:X2}{(EndsInFrame ? string.Empty : $" (END_STREAM on a response frame exists from version {Wire.EndInFrameVersion} on)")}.");
        }

        if (header.Type == FrameType.Data && (header.Flags & (Wire.EndStream | Wire.EndMessage)) == Wire.EndStream)
        {
            throw PlexusException.Protocol($"A DATA frame for stream {header.StreamId} carries flags 0x{header.Flags:X2}, END_STREAM without END_MESSAGE; a response can only end after a whole message.");
        }
    }

    /// <summary>The credit a MESSAGES frame costs: each message its length + <see cref="Wire.FrameCharge"/>, as in a DATA frame of its own.</summary>
    public static int PackedCharge(long bodyLength, ulong count) => (int)(bodyLength + ((long)count * Wire.PackedCharge));

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
