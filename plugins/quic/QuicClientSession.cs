using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// The client's side of one connection to one server address: exchanges SETTINGS before the first request, opens a
/// bidirectional stream per request and writes its REQUEST and DATA frames (chunked to the server's frame limit, under
/// QUIC's flow control) and FIN, and honours GOAWAY: no new streams here.
/// </summary>
internal sealed class QuicClientSession
{
    // Frames handed to QUIC between two flushes of a request's payload.
    private const int FlushBytes = 64 * 1024;

    private readonly QuicClient _client;
    private readonly QuicConnection _connection;
    private readonly IFrameCodec _codec;
    private readonly QuicTransportOptions _options;
    private readonly Lock _gate = new();
    private int _open;
    private bool _goingAway;
    private string _goAwayReason = string.Empty;
    private bool _closed;
    private bool _closeWhenIdle;
    private bool _disposed;

    public QuicClientSession(QuicClient client, Uri address, QuicConnection connection, QuicTlsCredentials credentials, IFrameCodec codec)
    {
        _client = client;
        _connection = connection;
        _codec = codec;
        _options = client.Options;
        Address = address;
        Credentials = credentials;
        LocalLimits = new FrameLimits(_options.MaxFrameHeaderBytes, _options.MaxFrameBodyBytes);
    }

    /// <summary>The address this connection serves, as callers name it.</summary>
    public Uri Address { get; }

    /// <summary>The TLS credentials the connection was made with, kept alive as long as it is.</summary>
    public QuicTlsCredentials Credentials { get; }

    /// <summary>The connection's codec.</summary>
    public IFrameCodec Codec => _codec;

    /// <summary>The protocol version the connection's ALPN chose; from <see cref="QuicWire.PackedVersion"/> on, responses may come packed.</summary>
    public byte Version => QuicWire.VersionOf(_connection.Alpn);

    /// <summary>What the server announced.</summary>
    public QuicSettings ServerSettings { get; private set; }

    /// <summary>The frame limits this client announced, which the server's frames must keep.</summary>
    public FrameLimits LocalLimits { get; }

    /// <summary>Where response messages larger than a frame are assembled.</summary>
    public ArrayPool<byte> Pool => _client.Pool;

    /// <summary>The largest response message accepted.</summary>
    public long MaxMessageBytes => _options.MaxPayloadBytes;

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

    /// <summary>Exchanges SETTINGS: this client's first, then the server's answer, within the handshake timeout.</summary>
    /// <exception cref="PlexusException">The server refused or did not answer (before the first byte).</exception>
    public async Task StartAsync()
    {
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout);
        QuicSettings settings;
        QuicStream serverControl;
        try
        {
            var control = await _connection.OpenUnidirectionalStreamAsync(timeout.Token).ConfigureAwait(false);
            new QuicSettings(_codec.Name, _options.MaxFrameHeaderBytes, _options.MaxFrameBodyBytes).Write(control.Output, Version);
            await control.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            serverControl = await _connection.AcceptInboundStreamAsync(timeout.Token).ConfigureAwait(false);
            if (serverControl.IsBidirectional)
            {
                throw PlexusException.Protocol("the server opened a bidirectional stream where its control stream was due.");
            }

            settings = await QuicSettings.ReadAsync(serverControl.Input, Version, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            _connection.Close(QuicErrorCodes.Settings, "no SETTINGS in time");
            throw Refused(
                PlexusErrorCode.Unavailable,
                $"{Address} completed the QUIC handshake but sent no SETTINGS within {QuicTransportOptions.Key(nameof(QuicTransportOptions.HandshakeTimeout))} ({_options.HandshakeTimeout.TotalMilliseconds} ms); is it a Plexus QUIC server?");
        }
        catch (QuicConnectionClosedException closed)
        {
            throw closed.Info is { Kind: QuicCloseKind.PeerApplication, ErrorCode: QuicErrorCodes.CodecUnknown or QuicErrorCodes.Settings }
                ? Refused(PlexusErrorCode.ProtocolError, $"{Address} refused the connection: {closed.Info.Reason}")
                : Refused(PlexusErrorCode.Unavailable, _client.DescribeConnectFailure(Address, closed.Info));
        }
        catch (PlexusException malformed)
        {
            _connection.Close(QuicErrorCodes.Settings, malformed.Message);
            throw Refused(PlexusErrorCode.ProtocolError, $"{Address} sent SETTINGS this client cannot use: {malformed.Message}");
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw Refused(PlexusErrorCode.Unavailable, $"The connection to {Address} failed before it was ready: {exception.Message}");
        }

        if (!string.Equals(settings.CodecName, _codec.Name, StringComparison.OrdinalIgnoreCase))
        {
            var message = $"{Address} answered with codec '{settings.CodecName}', but this client offered '{_codec.Name}'. Set Plexus:RequestPlane:Codec to the same codec on both sides.";
            _connection.Close(QuicErrorCodes.CodecUnknown, $"codec '{settings.CodecName}' is not the one offered ('{_codec.Name}')");
            throw Refused(PlexusErrorCode.ProtocolError, message);
        }

        ServerSettings = settings;
        _ = ReadControlAsync(serverControl);
        QuicMetrics.ConnectionOpened(server: false);
        _ = _connection.Closed.ContinueWith(
            static (_, state) => ((QuicClientSession)state!).OnClosed(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Opens a stream for <paramref name="request"/>, sends it, and returns its response stream.</summary>
    public async ValueTask<IResponseStream> SendAsync(OutgoingRequest request, CancellationToken cancellationToken)
    {
        var headerLength = QuicRequestHead.Measure(request);
        if (headerLength > ServerSettings.MaxFrameHeaderBytes)
        {
            throw PlexusException.TooLarge(
                "request header (endpoint, request id and headers)",
                headerLength,
                ServerSettings.MaxFrameHeaderBytes,
                $"the server's {QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxFrameHeaderBytes))}");
        }

        if (!IsUsable)
        {
            throw Unusable();
        }

        QuicStream stream;
        try
        {
            // Waits for stream credit: QUIC's MAX_STREAMS is the server's MaxConcurrentStreams.
            stream = await _connection.OpenBidirectionalStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw Unusable();
        }

        bool taken;
        lock (_gate)
        {
            taken = !_closed && !_goingAway;
            if (taken)
            {
                _open++;
            }
        }

        if (!taken)
        {
            stream.Abort(QuicErrorCodes.Cancelled);
            throw Unusable();
        }

        var response = new QuicResponseStream(this, stream);
        response.Start(request.Deadline, cancellationToken);
        try
        {
            await WriteRequestAsync(stream.Output, request, headerLength, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicStreamAbortedException)
        {
            // STOP_SENDING: the server refused the request or answered it early; its ERROR is on the response side.
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                response.Abort(new OperationCanceledException("The request was cancelled while it was sent.", cancellationToken), QuicErrorCodes.Cancelled);
            }

            // The caller's cancellation or the deadline, as the stream recorded it; otherwise the connection failed,
            // before the payload's FIN, so no handler ran and the request may go elsewhere.
            var aborted = response.AbortError;
            await response.DisposeAsync().ConfigureAwait(false);
            throw aborted ?? Refused(PlexusErrorCode.Unavailable, $"Sending the request to {Address} failed: {exception.Message}");
        }

        return response;
    }

    /// <summary>A response stream ended or was disposed; called once per stream.</summary>
    public void StreamEnded()
    {
        bool close;
        bool dispose;
        lock (_gate)
        {
            _open--;
            close = _closeWhenIdle && _open == 0 && !_closed;
            dispose = _closed && _open == 0;
        }

        if (close)
        {
            _connection.Close(QuicErrorCodes.NoError, "the client closed");
        }
        else if (dispose)
        {
            DisposeConnection();
        }
    }

    /// <summary>Closes the connection once its last stream has ended (the client was disposed).</summary>
    public void CloseWhenIdle()
    {
        bool idle;
        lock (_gate)
        {
            _closeWhenIdle = true;
            idle = _open == 0;
        }

        if (idle)
        {
            _connection.Close(QuicErrorCodes.NoError, "the client closed");
        }
    }

    /// <summary>Why a new request cannot go on this connection.</summary>
    public PlexusException Unusable()
    {
        lock (_gate)
        {
            return Refused(PlexusErrorCode.Unavailable, _goingAway
                ? $"{Address} is going away ({_goAwayReason}) and takes no new requests on this connection; send the request to another instance."
                : $"The connection to {Address} has closed: {(_connection.Closed.IsCompleted ? _connection.Closed.Result.Describe() : "it is no longer usable")}.");
        }
    }

    private static PlexusException Refused(PlexusErrorCode code, string message) => new(code, message) { BeforeFirstByte = true };

    private async ValueTask WriteRequestAsync(PipeWriter output, OutgoingRequest request, int headerLength, CancellationToken cancellationToken)
    {
        var payload = request.Payload;
        var total = payload.Length;
        var maxBody = ServerSettings.MaxFrameBodyBytes;
        var first = (int)Math.Min(total, maxBody);
        var pool = _client.Pool;

        // The shared encoder writes the TCP layout, 4 bytes longer, and moves it into place (QuicRequestHead).
        var header = pool.Rent(headerLength + 4);
        try
        {
            QuicRequestHead.Encode(header.AsSpan(0, headerLength + 4), request, total);
            _codec.Write(header.AsSpan(0, headerLength), payload.Slice(0, first), output);
        }
        finally
        {
            pool.Return(header);
        }

        long sent = first;
        long unflushed = headerLength + first;
        while (sent < total)
        {
            if (unflushed >= FlushBytes)
            {
                unflushed = 0;
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            var n = (int)Math.Min(total - sent, maxBody);
            QuicFrames.WriteData(_codec, output, 0, payload.Slice(sent, n));
            sent += n;
            unflushed += n;
        }

        // FIN: the payload is complete and the server may run the handler.
        await output.CompleteAsync().ConfigureAwait(false);
    }

    private async Task ReadControlAsync(QuicStream serverControl)
    {
        try
        {
            await QuicControlStream.ReadAsync(serverControl.Input, OnControlMessage).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is closing; OnClosed deals with its streams.
        }
    }

    private void OnControlMessage(byte type, ReadOnlySequence<byte> body)
    {
        if (type != QuicWire.GoAway)
        {
            // Unknown control messages are skipped (forward compatibility).
            return;
        }

        var reason = body.IsEmpty ? "the server is going away" : Encoding.UTF8.GetString(body);
        lock (_gate)
        {
            _goingAway = true;
            _goAwayReason = reason;
        }
    }

    private void OnClosed()
    {
        bool dispose;
        lock (_gate)
        {
            _closed = true;
            dispose = _open == 0;
        }

        _client.SessionClosed(this);
        QuicMetrics.ConnectionClosed(server: false);
        if (dispose)
        {
            DisposeConnection();
        }
    }

    private void DisposeConnection()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _ = _connection.DisposeAsync().AsTask();
    }
}
