using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The client's side of one connection to one server address: opens streams (REQUEST, then DATA frames as credit
/// allows), routes the server's DATA, MESSAGES, END, ERROR and CREDIT frames to them (a DATA or MESSAGES frame with
/// END_STREAM ends its stream as END would), and honours GOAWAY: no new streams here.
/// </summary>
internal sealed class ClientSession : IFrameReceiver
{
    // Payloads up to this size are copied into the REQUEST frame's buffer, so SendAsync need not wait for the writer.
    private const int CopyThreshold = 16 * 1024;

    private readonly TcpClient _client;
    private readonly FrameConnection _connection;
    private readonly TcpTransportOptions _options;
    private readonly Dictionary<uint, TcpResponseStream> _streams = [];

    // Streams with a waiting caller that got messages during the current read; touched by the reader loop only.
    private readonly List<TcpResponseStream> _toWake = [];

    // The stream of the last DATA frame, so that a run of frames for one stream skips the lock and the lookup; reader
    // loop only. A stream given up elsewhere may linger here, which is harmless: it drops late bytes and returns their
    // credit, as for a stream not found.
    private TcpResponseStream? _lastStream;
    private uint _lastStreamId;
    private readonly Lock _gate = new();
    private uint _nextId = 1;
    private bool _goingAway;
    private bool _closed;
    private bool _closeWhenIdle;

    public ClientSession(TcpClient client, Uri address, FrameConnection connection, TcpTransportOptions options)
    {
        _client = client;
        _connection = connection;
        _options = options;
        Address = address;
    }

    /// <summary>The address this connection serves, as callers name it.</summary>
    public Uri Address { get; }

    /// <summary>The connection.</summary>
    public FrameConnection Connection => _connection;

    /// <summary>Whether new streams may still be opened here.</summary>
    public bool IsUsable
    {
        get
        {
            lock (_gate)
            {
                return !_closed && !_goingAway && !_closeWhenIdle;
            }
        }
    }

    /// <summary>Opens a stream for <paramref name="request"/> and sends its payload.</summary>
    public async ValueTask<IResponseStream> SendAsync(OutgoingRequest request, CancellationToken cancellationToken)
    {
        var headerLength = RequestHeaderCodec.Measure(request);
        if (headerLength > _connection.Peer.MaxFrameHeaderBytes)
        {
            throw PlexusException.TooLarge(
                "request header (endpoint, request id and headers)",
                headerLength,
                _connection.Peer.MaxFrameHeaderBytes,
                $"the server's {TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxFrameHeaderBytes))}");
        }

        var payload = request.Payload;
        var total = payload.Length;
        var maxBody = _connection.Peer.MaxFrameBodyBytes;
        var stream = new TcpResponseStream(this, _connection, _options.MaxPayloadBytes);

        int first;
        try
        {
            var wanted = (int)Math.Min(total, maxBody);
            var credit = await Credit.TakeAsync(stream.SendWindow, _connection.SendWindow, Wire.FrameCharge + Math.Min(wanted, Wire.MinimumChunk), Wire.FrameCharge + wanted, cancellationToken).ConfigureAwait(false);
            first = credit - Wire.FrameCharge;
        }
        catch (PlexusException closed)
        {
            throw new PlexusException(closed.Code, closed.Message) { BeforeFirstByte = true };
        }

        var copy = first == total && total <= CopyThreshold;
        var buffer = _connection.Pool.Rent(headerLength + (copy ? first : 0));
        var endStream = first == total;
        var exhausted = false;
        lock (_gate)
        {
            if (_nextId > int.MaxValue)
            {
                // Out of stream ids: this connection takes no more; the next request opens a fresh one.
                _closeWhenIdle = true;
                exhausted = true;
            }
        }

        if (exhausted)
        {
            _connection.Pool.Return(buffer);
            _client.SessionClosed(this);
            CloseIfIdle();
            throw Unusable();
        }

        lock (_gate)
        {
            if (_closed || _goingAway || _closeWhenIdle)
            {
                _connection.Pool.Return(buffer);
                throw Unusable();
            }

            stream.Id = _nextId++;
            _streams.Add(stream.Id, stream);
            RequestHeaderCodec.Encode(buffer, stream.Id, endStream ? Wire.EndStream : (byte)0, request, total);
            ReadOnlySequence<byte> body;
            if (copy)
            {
                payload.CopyTo(buffer.AsSpan(headerLength));
                body = new ReadOnlySequence<byte>(buffer, headerLength, first);
            }
            else
            {
                body = payload.Slice(0, first);
                stream.PayloadFrameQueued();
            }

            // Ids go on the wire in the order they are given out: both happen under this lock.
            if (!_connection.Send(new OutgoingFrame(FrameType.Request, endStream ? Wire.EndStream : (byte)0, stream.Id)
            {
                Buffer = buffer,
                EncodedHeaderLength = headerLength,
                Body = body,
                Observer = copy ? null : stream,
            }))
            {
                _streams.Remove(stream.Id);
                throw Unusable();
            }
        }

        stream.Started(request.Deadline, cancellationToken);
        long sent = first;
        try
        {
            while (sent < total)
            {
                var wanted = (int)Math.Min(total - sent, maxBody);
                var credit = await Credit.TakeAsync(stream.SendWindow, _connection.SendWindow, Wire.FrameCharge + Math.Min(wanted, Wire.MinimumChunk), Wire.FrameCharge + wanted, cancellationToken).ConfigureAwait(false);
                var n = credit - Wire.FrameCharge;
                stream.PayloadFrameQueued();
                if (!_connection.Send(new OutgoingFrame(FrameType.Data, sent + n == total ? Wire.EndStream : (byte)0, stream.Id)
                {
                    Body = payload.Slice(sent, n),
                    Observer = stream,
                }))
                {
                    throw _connection.CloseError ?? Unusable();
                }

                sent += n;
            }

            // The caller's memory is free only once no queued frame points into it.
            await stream.PayloadReleasedAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            stream.Abort(exception, PlexusErrorCode.Cancelled);
            await stream.PayloadReleasedAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return stream;
    }

    /// <summary>Tells the server a stream was given up, and forgets it.</summary>
    public void Cancel(TcpResponseStream stream, PlexusErrorCode reason)
    {
        bool idle;
        lock (_gate)
        {
            if (!_streams.Remove(stream.Id))
            {
                return;
            }

            idle = _closeWhenIdle && _streams.Count == 0;
        }

        _connection.Send(new OutgoingFrame(FrameType.Cancel, 0, stream.Id, code: (byte)reason));
        if (idle)
        {
            CloseIdle();
        }
    }

    /// <summary>Closes the connection once its last stream has ended (the client was disposed).</summary>
    public void CloseWhenIdle()
    {
        bool idle;
        lock (_gate)
        {
            _closeWhenIdle = true;
            idle = _streams.Count == 0;
        }

        if (idle)
        {
            CloseIdle();
        }
    }

    public void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> rawHeader, in ReadOnlySequence<byte> body)
    {
        switch (header.Type)
        {
            case FrameType.Data:
                var stream = _lastStream is not null && _lastStreamId == header.StreamId ? _lastStream : Find(header.StreamId, remove: false);
                if (stream is null)
                {
                    // A stream already given up: drop the bytes, keep the connection's credit flowing.
                    _connection.ReturnCredit((int)body.Length + Wire.FrameCharge);
                }
                else
                {
                    _lastStream = stream;
                    _lastStreamId = header.StreamId;
                    stream.OnData(body, (header.Flags & Wire.EndMessage) != 0);
                }

                if ((header.Flags & Wire.EndStream) != 0)
                {
                    // Version 3: the response ends after this frame's message, exactly as if END followed.
                    EndStream(header.StreamId);
                }

                break;
            case FrameType.Messages:
                var target = _lastStream is not null && _lastStreamId == header.StreamId ? _lastStream : Find(header.StreamId, remove: false);
                if (target is null)
                {
                    _connection.ReturnCredit(FrameConnection.PackedCharge(body.Length, header.Value));
                }
                else
                {
                    _lastStream = target;
                    _lastStreamId = header.StreamId;
                    target.OnMessages(body, (int)header.Value);
                }

                if ((header.Flags & Wire.EndStream) != 0)
                {
                    EndStream(header.StreamId);
                }

                break;
            case FrameType.End:
                EndStream(header.StreamId);
                break;
            case FrameType.Error:
                Find(header.StreamId, remove: true)?.OnEnd(Frames.ReadError(header, body), onReader: true);
                CloseIfIdle();
                break;
            case FrameType.Credit:
                if (header.Value == 0)
                {
                    throw PlexusException.Protocol($"A CREDIT frame for stream {header.StreamId} grants nothing.");
                }

                var credited = Find(header.StreamId, remove: false);
                if (credited is not null && !credited.SendWindow.Add((long)header.Value))
                {
                    throw PlexusException.Protocol($"CREDIT frames for stream {header.StreamId} overflow its window.");
                }

                break;
            case FrameType.GoAway:
                OnGoAway(header.StreamId, body);
                break;
            default:
                throw PlexusException.Protocol($"A server sent a {header.Type} frame, which only a client sends.");
        }
    }

    /// <summary>Wakes <paramref name="stream"/>'s caller at the end of the current read; called on the reader loop.</summary>
    public void ScheduleWake(TcpResponseStream stream) => _toWake.Add(stream);

    public void OnReadComplete()
    {
        if (_toWake.Count > 1 && !_connection.IsLowLatency)
        {
            // The callers of one read run in turn on one work item, each until it next waits: one wake-up, not one
            // per caller. (In low-latency mode each runs on the reader thread at once.)
            var streams = _toWake.ToArray();
            foreach (var stream in streams)
            {
                stream.TakeScheduledWake();
            }

            ThreadPool.UnsafeQueueUserWorkItem(new WakeBatch(streams), preferLocal: true);
        }
        else
        {
            for (var i = 0; i < _toWake.Count; i++)
            {
                _toWake[i].WakeScheduled();
            }
        }

        _toWake.Clear();
    }

    public void OnClosed(PlexusException error)
    {
        TcpResponseStream[] open;
        lock (_gate)
        {
            _closed = true;
            open = [.. _streams.Values];
            _streams.Clear();
        }

        foreach (var stream in open)
        {
            stream.OnEnd(error);
        }

        _client.SessionClosed(this);
    }

    private void OnGoAway(uint lastStreamId, in ReadOnlySequence<byte> body)
    {
        var reason = body.IsEmpty ? "the server is going away" : System.Text.Encoding.UTF8.GetString(body.ToArray());
        List<TcpResponseStream>? refused = null;
        lock (_gate)
        {
            _goingAway = true;
            foreach (var (id, stream) in _streams)
            {
                if (id > lastStreamId)
                {
                    (refused ??= []).Add(stream);
                }
            }

            if (refused is not null)
            {
                foreach (var stream in refused)
                {
                    _streams.Remove(stream.Id);
                }
            }
        }

        if (refused is not null)
        {
            foreach (var stream in refused)
            {
                stream.OnEnd(new PlexusException(PlexusErrorCode.Unavailable, $"{Address} did not take the request: {reason}") { BeforeFirstByte = true });
            }
        }
    }

    // The normal end of a response: an END frame, or END_STREAM on its last DATA or MESSAGES frame (version 3).
    private void EndStream(uint id)
    {
        Find(id, remove: true)?.OnEnd(null, onReader: true);
        CloseIfIdle();
    }

    private TcpResponseStream? Find(uint id, bool remove)
    {
        if (remove && id == _lastStreamId)
        {
            _lastStream = null;
        }

        lock (_gate)
        {
            if (remove ? _streams.Remove(id, out var stream) : _streams.TryGetValue(id, out stream))
            {
                return stream;
            }

            if (id == 0 || id >= _nextId)
            {
                throw PlexusException.Protocol($"A frame names stream {id}, which this client never opened.");
            }

            return null;
        }
    }

    private void CloseIfIdle()
    {
        bool idle;
        lock (_gate)
        {
            idle = _closeWhenIdle && _streams.Count == 0;
        }

        if (idle)
        {
            CloseIdle();
        }
    }

    private void CloseIdle() =>
        _connection.CloseGracefully(PlexusException.Unavailable($"The client closed its connection to {Address}."));

    private PlexusException Unusable() =>
        new(PlexusErrorCode.Unavailable, _goingAway
            ? $"{Address} is going away (draining) and takes no new requests on this connection; send the request to another instance."
            : $"The connection to {Address} has closed: {_connection.CloseError?.Message ?? "it is no longer usable"}")
        {
            BeforeFirstByte = true,
        };
}
