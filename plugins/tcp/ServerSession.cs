using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The server's side of one client connection: asks the dispatcher to admit each REQUEST as its head arrives, opens a
/// <see cref="TcpExchange"/> for it, routes DATA, CANCEL and CREDIT frames to it, refuses what it cannot take (with
/// BEFORE_FIRST_BYTE, at once, without reading the payload), and goes away when the server stops accepting: GOAWAY,
/// no new streams, close once the last one ends.
/// </summary>
internal sealed class ServerSession : IFrameReceiver
{
    // Requests whose payload completed during the current read, started together at its end; reader loop only.
    private readonly List<TcpExchange> _toStart = [];

    private readonly TcpServer _server;
    private readonly IRequestDispatcher _dispatcher;
    private readonly FrameConnection _connection;
    private readonly TcpTransportOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<uint, TcpExchange> _streams = [];
    private readonly EndpointCache _endpoints = new();
    private readonly Lock _gate = new();
    private uint _lastStreamId;
    private bool _goingAway;
    private bool _closed;

    public ServerSession(TcpServer server, IRequestDispatcher dispatcher, FrameConnection connection, TcpTransportOptions options, ILogger logger)
    {
        _server = server;
        _dispatcher = dispatcher;
        _connection = connection;
        _options = options;
        _logger = logger;
    }

    /// <summary>The connection.</summary>
    public FrameConnection Connection => _connection;

    /// <summary>Takes, runs and ends the requests of this connection.</summary>
    public IRequestDispatcher Dispatcher => _dispatcher;

    public void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> rawHeader, in ReadOnlySequence<byte> body)
    {
        switch (header.Type)
        {
            case FrameType.Request:
                OnRequest(header, rawHeader, body);
                break;
            case FrameType.Data:
                var stream = Find(header.StreamId);
                if (stream is null)
                {
                    // A stream that has ended (cancelled, refused, finished): its late frames are dropped, their credit returned.
                    _connection.ReturnCredit((int)body.Length + Wire.FrameCharge);
                }
                else
                {
                    stream.OnPayload(body, (header.Flags & Wire.EndStream) != 0);
                }

                break;
            case FrameType.Cancel:
                Find(header.StreamId)?.Abort(
                    header.Code == (byte)PlexusErrorCode.Timeout
                        ? new PlexusException(PlexusErrorCode.Timeout, "The client's deadline passed.")
                        : new PlexusException(PlexusErrorCode.Cancelled, "The client cancelled the request."),
                    notifyClient: false);
                break;
            case FrameType.Credit:
                if (header.Value == 0)
                {
                    throw PlexusException.Protocol($"A CREDIT frame for stream {header.StreamId} grants nothing.");
                }

                var target = Find(header.StreamId);
                if (target is not null && !target.SendWindow.Add((long)header.Value))
                {
                    throw PlexusException.Protocol($"CREDIT frames for stream {header.StreamId} overflow its window.");
                }

                break;
            default:
                throw PlexusException.Protocol($"A client sent a {header.Type} frame, which only a server sends.");
        }
    }

    /// <summary>Starts <paramref name="exchange"/> with the other requests completed by the current read; on the reader loop.</summary>
    public void ScheduleStart(TcpExchange exchange) => _toStart.Add(exchange);

    public void OnReadComplete()
    {
        // Off the reader loop: a handler that blocks before its first await must not stop the connection. Queued to
        // this thread's own queue, they run here once the reader loop waits for its next read, unless an idle thread
        // takes them first. The requests of one read run in turn on one work item: one wake-up, not one per request.
        if (_toStart.Count == 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_toStart[0], preferLocal: true);
        }
        else if (_toStart.Count > 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(new StartBatch([.. _toStart]), preferLocal: true);
        }

        _toStart.Clear();
    }

    public void OnClosed(PlexusException error)
    {
        TcpExchange[] open;
        lock (_gate)
        {
            _closed = true;
            open = [.. _streams.Values];
        }

        foreach (var stream in open)
        {
            stream.Abort(error, notifyClient: false);
        }

        _server.SessionClosed(this);
    }

    /// <summary>Takes no new streams from now on, tells the client so, and closes once the open ones have ended.</summary>
    public void GoAway()
    {
        bool idle;
        lock (_gate)
        {
            if (_goingAway || _closed)
            {
                return;
            }

            _goingAway = true;
            _connection.Send(Frames.GoAway(_lastStreamId, $"{_server.Address} is stopping: it finishes the requests it has and takes no new ones."));
            idle = _streams.Count == 0;
        }

        if (idle)
        {
            _connection.CloseGracefully(PlexusException.Unavailable($"{_server.Address} stopped accepting and closed the connection after its last request."));
        }
    }

    /// <summary>
    /// Ends every open stream with <paramref name="error"/> (sent to the client; each request's
    /// <see cref="IncomingRequest.Aborted"/> fires), then closes once what is queued is on the wire.
    /// </summary>
    public void AbortAll(PlexusException error)
    {
        TcpExchange[] open;
        lock (_gate)
        {
            _goingAway = true;
            open = [.. _streams.Values];
        }

        foreach (var stream in open)
        {
            stream.Abort(error, notifyClient: true);
        }

        _connection.CloseGracefully(error);
    }

    /// <summary>A stream ended; called once per stream.</summary>
    public void StreamFinished(TcpExchange stream)
    {
        bool idle;
        lock (_gate)
        {
            _streams.Remove(stream.Id);
            idle = _goingAway && _streams.Count == 0;
        }

        if (idle)
        {
            _connection.CloseGracefully(PlexusException.Unavailable($"{_server.Address} stopped accepting and closed the connection after its last request."));
        }
    }

    /// <summary>A stream of this connection was handed to the dispatcher, or ended before it was.</summary>
    public void HandedOver() => _server.HandedOver();

    private void OnRequest(in FrameHeader header, in ReadOnlySequence<byte> rawHeader, in ReadOnlySequence<byte> body)
    {
        var id = header.StreamId;
        if (id <= _lastStreamId)
        {
            throw PlexusException.Protocol($"A REQUEST opened stream {id}, but stream ids must increase and {_lastStreamId} was already used.");
        }

        _lastStreamId = id;
        var request = RequestHeaderCodec.Decode(rawHeader, _endpoints);
        var charge = (int)body.Length + Wire.FrameCharge;

        // The transport's own limits first, then the dispatcher's say, all before a byte of payload is kept.
        var refusal = Check(request, body) ?? _dispatcher.Admit(request.Endpoint, request.Instance);
        if (refusal is not null)
        {
            Refuse(id, charge, refusal);
            return;
        }

        var stream = new TcpExchange(this, _connection, id, request, _options.MaxPayloadBytes);
        lock (_gate)
        {
            if (_goingAway || _closed)
            {
                refusal = new PlexusException(PlexusErrorCode.Unavailable, $"{_server.Address} is stopping and takes no new requests.") { BeforeFirstByte = true };
            }
            else
            {
                // Counted under the lock that GoAway takes: a stream admitted before the server stopped accepting is
                // counted before StopAcceptingAsync looks, so it waits for the stream's hand-over.
                _streams.Add(id, stream);
                _server.Admitted();
            }
        }

        if (refusal is not null)
        {
            Refuse(id, charge, refusal);
            return;
        }

        stream.OnPayload(body, (header.Flags & Wire.EndStream) != 0);
    }

    private void Refuse(uint id, int charge, PlexusException refusal)
    {
        _connection.ReturnCredit(charge);
        TcpLog.StreamFailed(_logger, id, _connection.PeerName, refusal.Message);
        _connection.Send(Frames.Error(id, refusal));
    }

    private PlexusException? Check(in DecodedRequest request, in ReadOnlySequence<byte> body)
    {
        if (request.PayloadLength > _options.MaxPayloadBytes)
        {
            return PlexusException.TooLarge("request payload", request.PayloadLength, _options.MaxPayloadBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
        }

        if (body.Length > request.PayloadLength)
        {
            return PlexusException.Protocol($"The REQUEST declares a payload of {request.PayloadLength} bytes but its first frame carries {body.Length}.");
        }

        int open;
        lock (_gate)
        {
            open = _streams.Count;
        }

        if (open >= _options.MaxConcurrentStreams)
        {
            return new PlexusException(
                PlexusErrorCode.Overloaded,
                $"{_server.Address} already has {open} requests open on this connection, the most {TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxConcurrentStreams))} allows; try again later or raise it.")
            {
                BeforeFirstByte = true,
            };
        }

        return null;
    }

    private TcpExchange? Find(uint id)
    {
        if (id == 0)
        {
            throw PlexusException.Protocol("A stream frame names stream 0, which is the connection.");
        }

        lock (_gate)
        {
            if (_streams.TryGetValue(id, out var stream))
            {
                return stream;
            }
        }

        return id > _lastStreamId
            ? throw PlexusException.Protocol($"A frame names stream {id}, which was never opened.")
            : null;
    }
}
