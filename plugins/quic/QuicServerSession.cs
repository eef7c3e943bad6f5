using System.Buffers;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// The server's side of one client connection: reads the client's SETTINGS (closing the connection with SETTINGS or
/// CODEC_UNKNOWN when it cannot serve them), answers with its own, hands every request stream to a
/// <see cref="QuicExchange"/>, and goes away when the server stops accepting: GOAWAY on the control stream, later
/// request streams refused before the first byte.
/// </summary>
internal sealed class QuicServerSession
{
    private readonly QuicServer _server;
    private readonly IRequestDispatcher _dispatcher;
    private readonly QuicConnection _connection;
    private readonly QuicTransportOptions _options;
    private readonly ILogger _logger;
    private readonly HashSet<QuicExchange> _exchanges = [];
    private readonly EndpointCache _endpoints = new();
    private readonly Lock _endpointsGate = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _controlWrite = new(1, 1);
    private TaskCompletionSource? _streamsEnded;
    private QuicStream? _control;
    private bool _clientControlSeen;
    private bool _settingsSent;
    private bool _goingAway;
    private bool _closed;

    public QuicServerSession(QuicServer server, IRequestDispatcher dispatcher, QuicConnection connection)
    {
        _server = server;
        _dispatcher = dispatcher;
        _connection = connection;
        _options = server.Options;
        _logger = server.Logger;
        Peer = connection.RemoteEndPoint.ToString();
        LocalLimits = new FrameLimits(_options.MaxFrameHeaderBytes, _options.MaxFrameBodyBytes);
    }

    /// <summary>The client's address, for log lines.</summary>
    public string Peer { get; }

    /// <summary>The server this connection belongs to.</summary>
    public QuicServer Server => _server;

    /// <summary>Takes, runs and ends the requests of this connection.</summary>
    public IRequestDispatcher Dispatcher => _dispatcher;

    /// <summary>Where this session logs.</summary>
    public ILogger Logger => _logger;

    /// <summary>The connection's codec, once <see cref="Ready"/> has completed with <see langword="true"/>.</summary>
    public IFrameCodec Codec { get; private set; } = null!;

    /// <summary>What the client announced, once <see cref="Ready"/> has completed with <see langword="true"/>.</summary>
    public QuicSettings ClientSettings { get; private set; }

    /// <summary>The protocol version the connection's ALPN chose; from <see cref="QuicWire.PackedVersion"/> on, responses may be packed.</summary>
    public byte Version => QuicWire.VersionOf(_connection.Alpn);

    /// <summary>The frame limits this server announced, which the client's frames must keep.</summary>
    public FrameLimits LocalLimits { get; }

    /// <summary>Completes with <see langword="true"/> once SETTINGS are exchanged, <see langword="false"/> if they never will be.</summary>
    public Task<bool> Ready => _ready.Task;

    /// <summary>Completes once no stream of this connection is left (after <see cref="Shutdown"/>).</summary>
    public Task StreamsEnded
    {
        get
        {
            lock (_gate)
            {
                if (_exchanges.Count == 0)
                {
                    return Task.CompletedTask;
                }

                _streamsEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _streamsEnded.Task;
            }
        }
    }

    private string GoAwayReason => $"{_server.Address} is stopping: it finishes the requests it has and takes no new ones.";

    /// <summary>Starts serving the connection.</summary>
    public void Start()
    {
        QuicMetrics.ConnectionOpened(server: true);
        _ = _connection.Closed.ContinueWith(
            static (closed, state) => ((QuicServerSession)state!).OnClosed(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _ = AcceptStreamsAsync();
        _ = SettingsDeadlineAsync();
    }

    /// <summary>Takes no new streams from now on and tells the client so; streams already admitted carry on.</summary>
    public void GoAway()
    {
        bool sendNow;
        lock (_gate)
        {
            if (_goingAway || _closed)
            {
                return;
            }

            _goingAway = true;
            sendNow = _settingsSent;
        }

        if (sendNow)
        {
            _ = SendGoAwayAsync();
        }
    }

    /// <summary>The server is closing: every stream still running is reset with SHUTDOWN and its handler's token fires.</summary>
    public void Shutdown()
    {
        QuicExchange[] open;
        lock (_gate)
        {
            _goingAway = true;
            open = [.. _exchanges];
        }

        foreach (var exchange in open)
        {
            exchange.Shutdown();
        }
    }

    /// <summary>Response bytes the connection owes the client: handed to QUIC and not acknowledged.</summary>
    public long OwedBytes => _connection.OwedBytes;

    /// <summary>Whether the connection owes the client its whole budget: its handlers wait and no new request runs.</summary>
    public bool IsSendFull => _connection.IsSendFull;

    /// <summary>Ends the connection with CONNECTION_CLOSE NO_ERROR.</summary>
    public void Close(string reason) => _connection.Close(QuicErrorCodes.NoError, reason);

    /// <summary>
    /// Counts a request stream whose head was read as admitted, unless the connection is going away (then the refusal
    /// to send). Under the lock <see cref="GoAway"/> takes, so that a stream admitted before the server stopped
    /// accepting is counted before <see cref="QuicServer.StopAcceptingAsync"/> looks.
    /// </summary>
    public PlexusException? TryAdmit()
    {
        lock (_gate)
        {
            if (_goingAway || _closed)
            {
                return new PlexusException(PlexusErrorCode.Unavailable, $"{_server.Address} is stopping and takes no new requests.") { BeforeFirstByte = true };
            }

            _server.HandOver.Admitted();
            return null;
        }
    }

    /// <summary>Reads a REQUEST header; the endpoint cache is shared by the connection's streams.</summary>
    /// <exception cref="PlexusException">The header is malformed (ProtocolError).</exception>
    public DecodedRequest Decode(in ReadOnlySequence<byte> header)
    {
        lock (_endpointsGate)
        {
            return QuicRequestHead.Decode(header, _endpoints, _server.Pool);
        }
    }

    /// <summary>A stream ended; called once per stream.</summary>
    public void ExchangeFinished(QuicExchange exchange)
    {
        TaskCompletionSource? ended = null;
        lock (_gate)
        {
            _exchanges.Remove(exchange);
            if (_exchanges.Count == 0)
            {
                ended = _streamsEnded;
            }
        }

        ended?.TrySetResult();
    }

    private async Task AcceptStreamsAsync()
    {
        while (true)
        {
            QuicStream stream;
            try
            {
                stream = await _connection.AcceptInboundStreamAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            if (!stream.IsBidirectional)
            {
                bool first;
                lock (_gate)
                {
                    first = !_clientControlSeen;
                    _clientControlSeen = true;
                }

                if (first)
                {
                    _ = ReadClientControlAsync(stream);
                }
                else
                {
                    // Version 1 gives a client one control stream; more carry nothing this side reads.
                    stream.AbortRead(QuicErrorCodes.Refused);
                }

                continue;
            }

            // While the client owes this connection its whole budget of unacknowledged response bytes, no new request
            // runs until it has read down to half of it: its new streams wait unread, so QUIC's flow control holds it back.
            var room = _connection.WaitForSendRoom();
            if (room is not null)
            {
                await room.ConfigureAwait(false);
            }

            // Streams still queued when the connection closed (many, after such a wait) are not run. After a wait the
            // check takes the connection's gate, so a close under way has finished first.
            if (room is null ? _connection.IsClosed : _connection.HasEnded)
            {
                stream.Abort(QuicErrorCodes.Shutdown);
                continue;
            }

            var exchange = new QuicExchange(this, stream);
            bool closed;
            lock (_gate)
            {
                closed = _closed;
                if (!closed)
                {
                    _exchanges.Add(exchange);
                }
            }

            if (closed)
            {
                stream.Abort(QuicErrorCodes.Shutdown);
                continue;
            }

            // Off the accept loop: a handler that blocks before its first await must not hold up the connection.
            ThreadPool.UnsafeQueueUserWorkItem(exchange, preferLocal: false);
        }
    }

    private async Task ReadClientControlAsync(QuicStream stream)
    {
        QuicSettings settings;
        try
        {
            settings = await QuicSettings.ReadAsync(stream.Input, Version, CancellationToken.None).ConfigureAwait(false);
        }
        catch (PlexusException malformed)
        {
            Refuse(QuicErrorCodes.Settings, malformed.Message);
            return;
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            _ready.TrySetResult(false);
            return;
        }

        if (!_server.Codecs.TryGet(settings.CodecName, out var codec))
        {
            Refuse(
                QuicErrorCodes.CodecUnknown,
                $"codec '{settings.CodecName}' is unknown to this server, whose codec is '{_server.Codecs.Default.Name}'; set Plexus:RequestPlane:Codec alike on both sides.");
            return;
        }

        ClientSettings = settings;
        Codec = codec;
        try
        {
            await SendSettingsAsync(codec).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            _ready.TrySetResult(false);
            return;
        }

        _ready.TrySetResult(true);
        try
        {
            // No control message goes from client to server in version 1; later ones are read and dropped.
            await QuicControlStream.ReadAsync(stream.Input, onMessage: null).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            QuicLog.ControlStreamFailed(_logger, Peer, exception.Message);
        }
    }

    private async Task SendSettingsAsync(IFrameCodec codec)
    {
        var control = await _connection.OpenUnidirectionalStreamAsync(CancellationToken.None).ConfigureAwait(false);
        await _controlWrite.WaitAsync().ConfigureAwait(false);
        try
        {
            bool goingAway;
            lock (_gate)
            {
                _control = control;
                goingAway = _goingAway;
            }

            new QuicSettings(codec.Name, _options.MaxFrameHeaderBytes, _options.MaxFrameBodyBytes).Write(control.Output, Version);
            if (goingAway)
            {
                QuicFrames.WriteGoAway(control.Output, GoAwayReason);
            }

            await control.Output.FlushAsync().ConfigureAwait(false);

            // A GoAway that came while the SETTINGS were written left the GOAWAY to this path (see GoAway).
            bool pending;
            lock (_gate)
            {
                _settingsSent = true;
                pending = _goingAway && !goingAway;
            }

            if (pending)
            {
                QuicFrames.WriteGoAway(control.Output, GoAwayReason);
                await control.Output.FlushAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _controlWrite.Release();
        }
    }

    private async Task SendGoAwayAsync()
    {
        await _controlWrite.WaitAsync().ConfigureAwait(false);
        try
        {
            QuicFrames.WriteGoAway(_control!.Output, GoAwayReason);
            await _control.Output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is closing anyway; its requests were refused or will fail with it.
        }
        finally
        {
            _controlWrite.Release();
        }
    }

    private async Task SettingsDeadlineAsync()
    {
        try
        {
            await _ready.Task.WaitAsync(_options.HandshakeTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Refuse(
                QuicErrorCodes.Settings,
                $"no SETTINGS arrived within {QuicTransportOptions.Key(nameof(QuicTransportOptions.HandshakeTimeout))} ({_options.HandshakeTimeout.TotalMilliseconds} ms) of the handshake; is the client a Plexus QUIC client?");
        }
    }

    private void Refuse(ulong code, string reason)
    {
        QuicLog.SettingsRefused(_logger, Peer, reason);
        _connection.Close(code, reason);
        _ready.TrySetResult(false);
    }

    private void OnClosed()
    {
        QuicExchange[] open;
        lock (_gate)
        {
            _closed = true;
            open = [.. _exchanges];
        }

        foreach (var exchange in open)
        {
            exchange.ConnectionLost();
        }

        _ready.TrySetResult(false);
        _server.SessionClosed(this);
        QuicMetrics.ConnectionClosed(server: true);
    }
}
